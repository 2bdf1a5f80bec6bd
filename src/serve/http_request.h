#pragma once
// Reading HTTP requests into the service's types: ids, labels, timestamps, events, feedback,
// query parameters, and the recommendation reply. Every problem is an HttpError (status, code,
// message naming the field). Private to the server (src/serve).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "driftrec/serve/service.h"
#include "http_transport.h"

namespace driftrec::serve {

/// A request error with its HTTP status and machine-readable code.
struct HttpError : std::runtime_error {
  HttpError(int s, std::string c, const std::string& m) : std::runtime_error(m), status(s), code(std::move(c)) {}
  int status;
  std::string code;
};

/// An id (user, item) from a body or a path: non-empty, at most 256 bytes, printable UTF-8.
std::string checked_id(std::string s, const std::string& where);

/// An id given as a JSON string (checked as checked_id) or an integer (written in decimal).
std::string text_of(const nlohmann::json& v, const std::string& where);

/// A short label (behavior, domain): a string of at most 64 bytes, printable UTF-8 ("" allowed).
std::string label_of(const nlohmann::json& v, const std::string& where);

/// A timestamp field: unix seconds (fractions floored), |ts| <= 1e15 as the file readers accept.
std::int64_t timestamp_of(const nlohmann::json& v, const std::string& where);

/// One event object: user (unless anonymous), item, optional ts/behavior/value/domain.
IncomingEvent parse_event(const nlohmann::json& j, const std::string& where, bool need_user);

/// The request body as JSON (400 malformed_json when empty or not JSON).
nlohmann::json parse_body(const Request& req);

/// A query flag: true/1 or false/0.
bool parse_bool(const std::string& s, const std::string& name);

/// A count parameter `name` in [1, max] (HttpError 400 otherwise).
std::size_t parse_count(const std::string& s, const std::string& name, std::size_t max);
/// The k of a request: parse_count(s, "k", max_k).
std::size_t parse_k(const std::string& s, std::size_t max_k);
/// A query parameter holding unix seconds (fractions floored, |s| <= 1e15 as timestamp_of); 400
/// invalid_parameter otherwise.
std::int64_t parse_timestamp(const std::string& s, const std::string& name);

/// A policy or re-ranker spec named `name` from a request: at most 200 bytes of printable text
/// (parsed by the service).
std::string spec_of(const std::string& s, const std::string& name);

/// POST /v1/feedback body: request_id, position (1-based), clicked, bought, dwell, ts.
IncomingFeedback parse_feedback(const nlohmann::json& j);

/// The recommendation reply body (items with score and propensity, request id, policy, ...).
nlohmann::json to_json(const RecommendResult& r);

}  // namespace driftrec::serve
