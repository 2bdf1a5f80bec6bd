#include "convert.h"

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/readers.h"

namespace driftrec::py {

pyb::object to_python(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      pyb::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[pyb::str(it.key())] = to_python(it.value());
      return std::move(d);
    }
    case nlohmann::json::value_t::array: {
      pyb::list l;
      for (const auto& v : j) l.append(to_python(v));
      return std::move(l);
    }
    case nlohmann::json::value_t::string:
      return pyb::str(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return pyb::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return pyb::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return pyb::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return pyb::float_(j.get<double>());
    default:
      return pyb::none();
  }
}

nlohmann::json from_python(pyb::handle h, const std::string& where) {
  if (h.is_none()) return nullptr;
  if (pyb::isinstance<pyb::bool_>(h)) return h.cast<bool>();
  if (pyb::isinstance<pyb::int_>(h)) return h.cast<std::int64_t>();
  if (pyb::isinstance<pyb::float_>(h)) return h.cast<double>();
  if (pyb::isinstance<pyb::str>(h)) return h.cast<std::string>();
  if (pyb::isinstance<pyb::dict>(h)) {
    nlohmann::json out = nlohmann::json::object();
    for (auto kv : h.cast<pyb::dict>()) {
      if (!pyb::isinstance<pyb::str>(kv.first)) throw InvalidInput(where + ": keys must be strings");
      const auto key = kv.first.cast<std::string>();
      out[key] = from_python(kv.second, where + "." + key);
    }
    return out;
  }
  if (pyb::isinstance<pyb::list>(h) || pyb::isinstance<pyb::tuple>(h)) {
    nlohmann::json out = nlohmann::json::array();
    std::size_t i = 0;
    for (auto v : h) out.push_back(from_python(v, where + "[" + std::to_string(i++) + "]"));
    return out;
  }
  // numpy scalars and other numbers
  if (pyb::hasattr(h, "item") && pyb::hasattr(h, "dtype")) return from_python(h.attr("item")(), where);
  throw InvalidInput(where + ": cannot use a value of type " +
                     pyb::str(h.get_type().attr("__name__")).cast<std::string>());
}

std::vector<std::string> id_list(pyb::handle ids, const std::string& what, bool* one) {
  if (one) *one = false;
  std::vector<std::string> out;
  if (pyb::isinstance<pyb::str>(ids)) {
    if (one) *one = true;
    out.push_back(ids.cast<std::string>());
    return out;
  }
  if (!pyb::hasattr(ids, "__iter__")) throw InvalidInput(what + ": expected an id or a sequence of ids");
  for (auto v : ids)
    out.push_back(pyb::isinstance<pyb::str>(v) ? v.cast<std::string>() : pyb::str(v).cast<std::string>());
  return out;
}

std::shared_ptr<pyb::object> hold(pyb::object o) {
  return std::shared_ptr<pyb::object>(new pyb::object(std::move(o)), [](pyb::object* x) {
    pyb::gil_scoped_acquire gil;
    delete x;
  });
}

ProgressCallback progress_callback(pyb::object progress) {
  pyb::object fn;
  if (progress.is_none() || (pyb::isinstance<pyb::bool_>(progress) && !progress.cast<bool>())) {
    fn = pyb::none();
  } else if (pyb::isinstance<pyb::bool_>(progress)) {
    fn = pyb::module_::import("driftrec._progress").attr("TextProgress")();
  } else if (PyCallable_Check(progress.ptr()) != 0) {
    fn = progress;
  } else {
    throw InvalidInput("progress must be True, False, None or a callable f(stage, done, total, message)");
  }
  return [holder = hold(std::move(fn))](const Progress& p) {
    pyb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw pyb::error_already_set();
    if (!holder->is_none()) (*holder)(p.stage, p.done, p.total, p.message);
  };
}

namespace {

// The Python classes the library's exceptions become (module attributes, documented in the stubs).
PyObject* g_error = nullptr;
PyObject* g_invalid = nullptr;
PyObject* g_not_found = nullptr;
PyObject* g_not_supported = nullptr;
PyObject* g_io = nullptr;
PyObject* g_corrupt = nullptr;

PyObject* new_class(pyb::module_& m, const char* name, PyObject* bases, const char* doc) {
  const std::string qualified = std::string("driftrec.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (!cls) throw pyb::error_already_set();
  m.add_object(name, pyb::handle(cls));
  return cls;
}

}  // namespace

void register_errors(pyb::module_& m) {
  g_error = new_class(m, "Error", PyExc_RuntimeError, "Base class of DriftRec's errors.");
  auto pair = [](PyObject* a, PyObject* b) { return pyb::make_tuple(pyb::handle(a), pyb::handle(b)).release().ptr(); };
  g_invalid = new_class(m, "InvalidInput", pair(g_error, PyExc_ValueError),
                        "Bad data or options; the message names file, line and field where there is one.");
  g_not_found = new_class(m, "NotFound", pair(g_error, PyExc_LookupError), "An unknown model, item, user or path.");
  g_not_supported = new_class(m, "NotSupported", pair(g_error, PyExc_NotImplementedError),
                              "The model cannot do this (e.g. explain).");
  g_io = new_class(m, "IoError", pair(g_error, PyExc_OSError), "A file could not be read or written.");
  g_corrupt = new_class(m, "CorruptModel", pair(g_error, PyExc_ValueError), "A model directory is damaged.");
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CorruptModel& e) {
      PyErr_SetString(g_corrupt, e.what());
    } catch (const InvalidInput& e) {
      PyErr_SetString(g_invalid, e.what());
    } catch (const NotFound& e) {
      PyErr_SetString(g_not_found, e.what());
    } catch (const NotSupported& e) {
      PyErr_SetString(g_not_supported, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(g_io, e.what());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
}

}  // namespace driftrec::py
