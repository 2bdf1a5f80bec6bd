#pragma once
// Typed errors thrown by library code. Only the edges (CLI, server, Python) translate them
// into exit codes, HTTP statuses or Python exceptions.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace driftrec {

/// Base of every error DriftRec throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// The caller passed something invalid (bad option value, unknown id, wrong shape).
class InvalidInput : public Error {
 public:
  using Error::Error;
};

/// A named thing (file, model, user, item, config key) does not exist.
class NotFound : public Error {
 public:
  using Error::Error;
};

/// The operation is not offered by this model/backend (see its capabilities).
class NotSupported : public Error {
 public:
  using Error::Error;
};

/// Reading or writing a file or directory failed.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A model directory exists but its content is wrong, truncated or from another version.
class CorruptModel : public Error {
 public:
  using Error::Error;
};

/// A malformed row in an input file: names the file, 1-based line, the field and the problem.
class ParseError : public InvalidInput {
 public:
  ParseError(std::string file, std::int64_t line, std::string field, std::string problem)
      : InvalidInput(file + ":" + std::to_string(line) + ": field '" + field + "': " + problem),
        file_(std::move(file)),
        line_(line),
        field_(std::move(field)),
        problem_(std::move(problem)) {}
  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  std::int64_t line_;
  std::string field_;
  std::string problem_;
};

}  // namespace driftrec
