#pragma once
// Conversions between the library's types and Python's for the binding files: JSON <-> Python
// objects, id sequences, top-k lists -> numpy arrays, and the progress callback that holds the GIL
// only while it talks to Python and turns Ctrl-C into KeyboardInterrupt.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/core/topk.h"

namespace driftrec::py {

namespace pyb = pybind11;

/// JSON value -> dict / list / str / int / float / bool / None.
pyb::object to_python(const nlohmann::json& j);
/// Python value (dict, list, tuple, str, int, float, bool, None) -> JSON. Throws InvalidInput
/// naming `where` for anything else.
nlohmann::json from_python(pyb::handle h, const std::string& where);

/// A str, or a sequence of ids (each passed through str()) -> strings. `one` is set when a single
/// str was given (the caller returns 1-D results then).
std::vector<std::string> id_list(pyb::handle ids, const std::string& what, bool* one = nullptr);

/// Top-k lists -> (ids [n, k] object array of str, scores [n, k] float32); short rows are padded
/// with "" and -inf. `name(i)` gives an item index's id. With `one`, 1-D arrays of the first row.
template <typename Name>
pyb::tuple topk_arrays(const std::vector<TopK>& rows, std::size_t k, bool one, const Name& name);

/// Holds a Python object for C++ callbacks: shared so that copies of a std::function never copy a
/// Python reference without the GIL, and the last copy drops it with the GIL held (callbacks may be
/// copied and destroyed on threads that do not hold it).
std::shared_ptr<pyb::object> hold(pyb::object o);

/// Wraps a Python progress argument: False/None = silent, True = the text bar
/// (driftrec._progress.TextProgress), a callable = called as f(stage, done, total, message).
/// The returned callback may be called with the GIL released: it takes the GIL, calls Python, and
/// raises KeyboardInterrupt (as pybind11::error_already_set) when Ctrl-C was pressed, which
/// unwinds the C++ call. Even when silent it checks for Ctrl-C.
ProgressCallback progress_callback(pyb::object progress);

/// Registers the Python exception classes and the translation of the library's exceptions.
void register_errors(pyb::module_& m);

template <typename Name>
pyb::tuple topk_arrays(const std::vector<TopK>& rows, std::size_t k, bool one, const Name& name) {
  const auto n = static_cast<pyb::ssize_t>(rows.size());
  const auto kk = static_cast<pyb::ssize_t>(k);
  pyb::array_t<float> scores(std::vector<pyb::ssize_t>{n, kk});
  pyb::array ids(pyb::dtype("O"), std::vector<pyb::ssize_t>{n, kk});
  auto s = scores.mutable_unchecked<2>();
  auto** cells = static_cast<PyObject**>(ids.mutable_data());
  const pyb::str empty("");
  for (pyb::ssize_t r = 0; r < n; ++r) {
    const auto& row = rows[static_cast<std::size_t>(r)];
    for (pyb::ssize_t c = 0; c < kk; ++c) {
      const auto cu = static_cast<std::size_t>(c);
      pyb::object id = cu < row.size() ? pyb::str(name(row.items[cu])) : empty;
      s(r, c) = cu < row.size() ? row.scores[cu] : -std::numeric_limits<float>::infinity();
      PyObject*& cell = cells[r * kk + c];
      Py_XDECREF(cell);
      cell = id.release().ptr();
    }
  }
  if (one && n > 0) return pyb::make_tuple(ids[pyb::int_(0)], scores[pyb::int_(0)]);
  return pyb::make_tuple(ids, scores);
}

}  // namespace driftrec::py
