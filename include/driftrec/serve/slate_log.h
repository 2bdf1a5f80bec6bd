#pragma once
// The slates the server showed, kept in memory until their feedback can arrive: POST /v1/feedback
// names a request_id, and the slate tells which item was at which position with which
// propensity under which policy. Bounded by count (oldest dropped first) and age; a slate dropped
// or from before a restart is unknown (feedback for it gets 404). Thread-safe.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "driftrec/policy/policy.h"

namespace driftrec::serve {

struct ShownSlate {
  std::string user;
  std::string policy;
  std::vector<std::string> items;
  std::vector<double> propensity;
  double shown_at = 0;             ///< unix seconds
  std::vector<char> has_feedback;  ///< per position
  /// A learning policy (linucb, lints) and what it needs to learn from each position's feedback:
  /// policy::Slate::features, feature_dim values per position. Empty for other policies.
  std::shared_ptr<policy::Policy> learner;
  std::vector<float> features;
  std::string model;  ///< identity of the model the features came from (stored with the feedback)
};

class SlateLog {
 public:
  SlateLog(std::size_t capacity, double ttl_seconds) : capacity_(capacity), ttl_(ttl_seconds) {}
  /// Remembers a slate under `request_id` (unique), dropping the oldest beyond capacity.
  void add(const std::string& request_id, ShownSlate slate);
  /// Outcome of claim().
  enum class Claim { ok, unknown, expired, bad_position, duplicate };
  /// Marks `position` of `request_id` as having feedback and copies the slate into `out`, unless
  /// the request is unknown, older than the ttl at `now`, the position is outside the slate, or
  /// feedback for it was already claimed.
  Claim claim(const std::string& request_id, std::size_t position, double now, ShownSlate* out);
  /// Undoes a claim (the store refused the write, so the client may retry).
  void release(const std::string& request_id, std::size_t position);
  /// Drops every slate shown to `user` (the user was deleted); returns how many.
  std::size_t forget_user(const std::string& user);
  std::size_t size() const;

 private:
  std::size_t capacity_;
  double ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, ShownSlate> slates_;
  std::deque<std::string> order_;
};

}  // namespace driftrec::serve
