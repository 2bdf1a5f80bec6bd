#include "driftrec/serve/slate_log.h"

#include <algorithm>

namespace driftrec::serve {

void SlateLog::add(const std::string& request_id, ShownSlate slate) {
  slate.has_feedback.assign(slate.items.size(), 0);
  std::lock_guard lock(mu_);
  if (capacity_ == 0) return;
  slates_[request_id] = std::move(slate);
  order_.push_back(request_id);
  while (order_.size() > capacity_) {
    slates_.erase(order_.front());
    order_.pop_front();
  }
}

SlateLog::Claim SlateLog::claim(const std::string& request_id, std::size_t position, double now, ShownSlate* out) {
  std::lock_guard lock(mu_);
  const auto it = slates_.find(request_id);
  if (it == slates_.end()) return Claim::unknown;
  auto& s = it->second;
  if (now - s.shown_at > ttl_) return Claim::expired;
  if (position >= s.items.size()) return Claim::bad_position;
  if (s.has_feedback[position]) return Claim::duplicate;
  s.has_feedback[position] = 1;
  *out = s;
  return Claim::ok;
}

void SlateLog::release(const std::string& request_id, std::size_t position) {
  std::lock_guard lock(mu_);
  const auto it = slates_.find(request_id);
  if (it != slates_.end() && position < it->second.has_feedback.size()) it->second.has_feedback[position] = 0;
}

std::size_t SlateLog::forget_user(const std::string& user) {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (auto it = slates_.begin(); it != slates_.end();) {
    if (it->second.user == user) {
      it = slates_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  if (n > 0)
    order_.erase(
        std::remove_if(order_.begin(), order_.end(), [&](const std::string& id) { return !slates_.count(id); }),
        order_.end());
  return n;
}

std::size_t SlateLog::size() const {
  std::lock_guard lock(mu_);
  return slates_.size();
}

}  // namespace driftrec::serve
