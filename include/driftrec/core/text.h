#pragma once
// Checks on text that comes from outside (files, HTTP): ids must be printable UTF-8.
#include <string>
#include <string_view>

namespace driftrec {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

/// What is wrong with `s` as an id or label ("" when nothing): control characters (NUL, tab, line
/// breaks, DEL) or bytes that are not UTF-8. Emptiness and length are the caller's rules.
std::string text_problem(std::string_view s);

}  // namespace driftrec
