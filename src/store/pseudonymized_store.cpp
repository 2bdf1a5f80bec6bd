#include "driftrec/store/pseudonymized_store.h"

#include <fstream>
#include <iterator>

#include "driftrec/core/digest.h"
#include "driftrec/core/error.h"

namespace driftrec::store {

namespace {
constexpr std::size_t kMinKeyBytes = 16;

class PseudonymizedStore : public EventStore {
 public:
  PseudonymizedStore(std::unique_ptr<EventStore> inner, std::string key)
      : inner_(std::move(inner)), key_(std::move(key)) {
    if (!inner_) throw InvalidInput("pseudonymize: no store given");
    if (key_.size() < kMinKeyBytes)
      throw InvalidInput("the pseudonymisation key must have at least " + std::to_string(kMinKeyBytes) + " bytes");
  }

  std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) override {
    return inner_->append(hashed(events));
  }
  std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                            const std::vector<StoredEvent>& events) override {
    auto f = feedback;
    for (auto& r : f) r.user = p(r.user);
    return inner_->append_feedback(f, hashed(events));
  }
  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    inner_->scan(after, fn);
  }
  void scan_range(std::int64_t after, std::int64_t up_to,
                  const std::function<bool(const StoredEvent&)>& fn) const override {
    inner_->scan_range(after, up_to, fn);
  }
  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    auto out = inner_->user_events(p(user), limit);
    for (auto& e : out) e.user = user;
    return out;
  }
  std::vector<StoredEvent> recent(std::size_t limit) const override { return inner_->recent(limit); }
  std::int64_t count() const override { return inner_->count(); }
  std::string url() const override { return inner_->url(); }
  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override { inner_->scan_feedback(fn); }
  void scan_model_feedback(const std::string& model,
                           const std::function<bool(const StoredFeedback&)>& fn) const override {
    inner_->scan_model_feedback(model, fn);
  }
  std::vector<StoredFeedback> user_feedback(const std::string& user) const override {
    auto out = inner_->user_feedback(p(user));
    for (auto& f : out) f.user = user;
    return out;
  }
  Erased delete_user(const std::string& user, std::int64_t deleted_at) override {
    return inner_->delete_user(p(user), deleted_at);
  }
  std::optional<std::int64_t> deleted_at(const std::string& user) const override { return inner_->deleted_at(p(user)); }
  Erased purge_before(std::int64_t cutoff) override { return inner_->purge_before(cutoff); }

 private:
  std::string p(const std::string& user) const { return pseudonym(key_, user); }
  std::vector<StoredEvent> hashed(const std::vector<StoredEvent>& events) const {
    auto out = events;
    for (auto& e : out) e.user = p(e.user);
    return out;
  }

  std::unique_ptr<EventStore> inner_;
  std::string key_;
};
}  // namespace

std::string read_pseudonym_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot read the pseudonymisation key file");
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < kMinKeyBytes)
    throw InvalidInput(path + ": the pseudonymisation key has " + std::to_string(key.size()) +
                       " bytes; it needs at least " + std::to_string(kMinKeyBytes) + " (e.g. openssl rand -hex 32 > " +
                       path + ")");
  return key;
}

std::string pseudonym(const std::string& key, const std::string& user) { return hmac_sha256_hex(key, user); }

std::unique_ptr<EventStore> pseudonymize(std::unique_ptr<EventStore> inner, std::string key) {
  return std::make_unique<PseudonymizedStore>(std::move(inner), std::move(key));
}

}  // namespace driftrec::store
