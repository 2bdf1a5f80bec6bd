#include "http_request.h"

#include <cmath>
#include <optional>

#include "driftrec/core/text.h"

namespace driftrec::serve {

using nlohmann::json;

/// An id (user, item) from a body or a path: non-empty, at most 256 bytes, printable UTF-8.
std::string checked_id(std::string s, const std::string& where) {
  if (s.empty()) throw HttpError(400, "invalid_field", where + ": must not be empty");
  if (s.size() > 256) throw HttpError(400, "invalid_field", where + ": longer than 256 bytes");
  if (const auto p = text_problem(s); !p.empty()) throw HttpError(400, "invalid_field", where + ": " + p);
  return s;
}

std::string text_of(const json& v, const std::string& where) {
  if (v.is_string()) return checked_id(v.get<std::string>(), where);
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  throw HttpError(400, "invalid_field", where + ": must be a string");
}

/// A short label (behavior, domain): a string of at most 64 bytes, printable UTF-8 ("" allowed).
std::string label_of(const json& v, const std::string& where) {
  if (!v.is_string()) throw HttpError(400, "invalid_field", where + ": must be a string");
  auto s = v.get<std::string>();
  if (s.size() > 64) throw HttpError(400, "invalid_field", where + ": longer than 64 bytes");
  if (const auto p = text_problem(s); !p.empty()) throw HttpError(400, "invalid_field", where + ": " + p);
  return s;
}

namespace {
/// Unix seconds with the fraction floored, or nullopt outside |s| <= 1e15 (as the file readers accept).
std::optional<std::int64_t> whole_seconds(double d) {
  if (!std::isfinite(d) || std::fabs(d) > 1e15) return std::nullopt;
  return static_cast<std::int64_t>(std::floor(d));
}
}  // namespace

/// A timestamp field: unix seconds (fractions floored), |ts| <= 1e15 as the file readers accept.
std::int64_t timestamp_of(const json& v, const std::string& where) {
  if (!v.is_number()) throw HttpError(400, "invalid_field", where + ": must be a number (unix seconds)");
  const auto t = whole_seconds(v.get<double>());
  if (!t) throw HttpError(400, "invalid_field", where + ": out of range");
  return *t;
}

/// One event object: user (unless anonymous), item, optional ts/behavior/value/domain.
IncomingEvent parse_event(const json& j, const std::string& where, bool need_user) {
  if (need_user == false && j.is_string()) {  // history may list bare item ids
    IncomingEvent e;
    e.item = text_of(j, where);
    return e;
  }
  if (!j.is_object()) throw HttpError(400, "invalid_field", where + ": must be an object");
  IncomingEvent e;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    const auto& v = it.value();
    const std::string at = where + "." + k;
    if (k == "user") {
      e.user = text_of(v, at);
    } else if (k == "item") {
      e.item = text_of(v, at);
    } else if (k == "ts" || k == "timestamp") {
      e.ts = timestamp_of(v, at);
    } else if (k == "behavior" || k == "behaviour") {
      e.behavior = label_of(v, at);
    } else if (k == "value") {
      if (!v.is_number()) throw HttpError(400, "invalid_field", at + ": must be a number");
      e.value = v.get<float>();
      if (!std::isfinite(e.value)) throw HttpError(400, "invalid_field", at + ": must be finite");
    } else if (k == "domain") {
      e.domain = label_of(v, at);
    } else {
      throw HttpError(400, "unknown_field", at + ": unknown field (user, item, ts, behavior, value, domain)");
    }
  }
  if (need_user && e.user.empty()) throw HttpError(400, "missing_field", where + ".user: required");
  if (e.item.empty()) throw HttpError(400, "missing_field", where + ".item: required");
  return e;
}

json parse_body(const Request& req) {
  if (req.body.empty()) throw HttpError(400, "malformed_json", "request body is empty; expected JSON");
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw HttpError(400, "malformed_json", std::string("request body is not valid JSON: ") + e.what());
  }
}

bool parse_bool(const std::string& s, const std::string& name) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  throw HttpError(400, "invalid_parameter", name + ": must be true or false");
}

std::size_t parse_k(const std::string& s, std::size_t max_k) { return parse_count(s, "k", max_k); }

std::int64_t parse_timestamp(const std::string& s, const std::string& name) {
  double d = 0;
  std::size_t used = 0;
  try {
    d = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const auto t = used == s.size() && !s.empty() ? whole_seconds(d) : std::nullopt;
  if (!t) throw HttpError(400, "invalid_parameter", name + ": must be a number of unix seconds, at most 1e15");
  return *t;
}

std::size_t parse_count(const std::string& s, const std::string& name, std::size_t max) {
  std::size_t used = 0;
  long long k = 0;
  try {
    k = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty()) throw HttpError(400, "invalid_parameter", name + ": must be an integer");
  if (k < 1 || static_cast<unsigned long long>(k) > max)
    throw HttpError(400, "invalid_parameter", name + ": must be between 1 and " + std::to_string(max));
  return static_cast<std::size_t>(k);
}

std::string spec_of(const std::string& s, const std::string& name) {
  if (s.size() > 200) throw HttpError(400, "invalid_parameter", name + ": longer than 200 bytes");
  if (const auto p = text_problem(s); !p.empty()) throw HttpError(400, "invalid_parameter", name + ": " + p);
  return s;
}

/// POST /v1/feedback body: request_id, position (1-based), clicked, bought, dwell, ts.
IncomingFeedback parse_feedback(const json& j) {
  if (!j.is_object()) throw HttpError(400, "invalid_field", "body: must be an object");
  IncomingFeedback f;
  bool has_position = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    const auto& v = it.value();
    if (k == "request_id") {
      f.request_id = text_of(v, k);
    } else if (k == "position") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 100000)
        throw HttpError(400, "invalid_field", "position: must be an integer from 1 (the first shown item)");
      f.position = static_cast<std::size_t>(v.get<long long>() - 1);
      has_position = true;
    } else if (k == "clicked" || k == "bought") {
      if (!v.is_boolean()) throw HttpError(400, "invalid_field", k + ": must be true or false");
      (k == "clicked" ? f.clicked : f.bought) = v.get<bool>();
    } else if (k == "dwell") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 1e7)
        throw HttpError(400, "invalid_field", "dwell: must be a number of seconds in [0, 1e7]");
      f.dwell = v.get<double>();
    } else if (k == "ts" || k == "timestamp") {
      f.ts = timestamp_of(v, k);
    } else {
      throw HttpError(400, "unknown_field", k + ": unknown field (request_id, position, clicked, bought, dwell, ts)");
    }
  }
  if (f.request_id.empty()) throw HttpError(400, "missing_field", "request_id: required");
  if (!has_position) throw HttpError(400, "missing_field", "position: required");
  return f;
}

json to_json(const RecommendResult& r) {
  json items = json::array();
  for (const auto& x : r.items) {
    json it = {{"item", x.item}, {"score", std::isfinite(x.score) ? x.score : 0.0f}, {"propensity", x.propensity}};
    if (r.explained) {
      it["because"] = json::array();
      for (const auto& b : x.because)
        it["because"].push_back({{"item", b.item}, {"ts", b.ts}, {"behavior", b.behavior}, {"weight", b.weight}});
    }
    items.push_back(std::move(it));
  }
  return {{"items", items},
          {"request_id", r.request_id},
          {"policy", r.policy},
          {"rerank", r.rerank.empty() ? json() : json(r.rerank)},
          {"cold_start", r.cold_start},
          {"history_length", r.history_length},
          {"model_version", r.model_version}};
}

}  // namespace driftrec::serve
