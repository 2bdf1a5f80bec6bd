// SequentialModel's serving side: encoding histories into states, online updates, scoring,
// per-item explanations by occlusion, and weight I/O. Training is in sequential.cpp.
#include <algorithm>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/nn/sequential.h"
#include "pch.h"
#include "sequential_impl.h"

namespace driftrec::nn {

models::UserState SequentialModel::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  models::UserState s = Model::encode(user, history);
  s.vector.assign(static_cast<std::size_t>(impl_->state_dim()), 0.0f);
  if (s.history.empty()) return s;
  const c10::InferenceMode inference;  // no autograd and no version counting: less work per op
  auto last = impl_->last_hidden(impl_->window(s.history)).contiguous();
  std::copy(last.data_ptr<float>(), last.data_ptr<float>() + impl_->state_dim(), s.vector.begin());
  return s;
}

namespace {

/// The newest position's states of several histories, as of their requests (`nows[i]`, nullopt =
/// not known), written to out[i] (state_dim floats each); empty histories are skipped. Windows of
/// similar length share a forward pass.
void encode_windows(const SequentialModel::Impl& m, const std::vector<const std::vector<data::Event>*>& histories,
                    const std::vector<std::optional<std::int64_t>>& nows, const std::vector<float*>& out) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < histories.size(); ++i)
    if (!histories[i]->empty()) order.push_back(i);
  auto wlen = [&](std::size_t i) {
    return std::min<std::size_t>(histories[i]->size(), static_cast<std::size_t>(m.max_len));
  };
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return wlen(a) < wlen(b); });
  constexpr std::size_t kGroup = 64;
  const c10::InferenceMode inference;
  for (std::size_t start = 0; start < order.size(); start += kGroup) {
    const auto stop = std::min(order.size(), start + kGroup);
    const auto L = static_cast<int64_t>(wlen(order[stop - 1]));
    SequentialModel::Impl::Buffer buf(static_cast<int64_t>(stop - start), L, m);
    for (std::size_t r = start; r < stop; ++r) {
      const auto ev = m.window(*histories[order[r]]);
      buf.set_events(m, static_cast<int64_t>(r - start), L - static_cast<int64_t>(ev.size()), ev, nows[order[r]]);
    }
    auto h = m.net->encode(buf.features()).select(1, L - 1).contiguous();  // [n, state_dim]
    const float* src = h.data_ptr<float>();
    const auto sd = static_cast<std::size_t>(m.state_dim());
    for (std::size_t r = start; r < stop; ++r)
      std::copy(src + (r - start) * sd, src + (r - start + 1) * sd, out[order[r]]);
  }
}

}  // namespace

std::vector<models::UserState> SequentialModel::encode_batch(
    const std::vector<std::int32_t>& users, const std::vector<std::vector<data::Event>>& histories) const {
  if (users.size() != histories.size()) throw InvalidInput(kind_ + ": encode_batch needs one history per user");
  std::vector<models::UserState> out;
  out.reserve(users.size());
  std::vector<const std::vector<data::Event>*> windows;
  std::vector<float*> rows;
  for (std::size_t i = 0; i < users.size(); ++i) {
    out.push_back(Model::encode(users[i], histories[i]));
    out.back().vector.assign(static_cast<std::size_t>(impl_->state_dim()), 0.0f);
  }
  for (auto& s : out) {
    windows.push_back(&s.history);
    rows.push_back(s.vector.data());
  }
  encode_windows(*impl_, windows, std::vector<std::optional<std::int64_t>>(out.size()), rows);
  return out;
}

models::Capabilities SequentialModel::capabilities() const { return {true, true, false, impl_->request_time}; }

void SequentialModel::observe(models::UserState& s, const data::Event& e) const {
  const auto before = s.version;
  Model::observe(s, e);
  if (s.version == before) return;
  auto fresh = encode(s.user, s.history);
  s.vector = std::move(fresh.vector);
}

void SequentialModel::score(const models::UserState& s, float* out) const { score_batch({&s}, out); }

namespace {

/// The states' vectors as one row-major [B, sd] buffer.
std::vector<float> state_rows(const std::vector<const models::UserState*>& states, std::size_t sd,
                              const std::string& kind) {
  std::vector<float> Q(states.size() * sd);
  for (std::size_t b = 0; b < states.size(); ++b) {
    if (states[b]->vector.size() != sd) throw InvalidInput(kind + ": user state was not made by this model");
    std::copy(states[b]->vector.begin(), states[b]->vector.end(), Q.begin() + static_cast<std::ptrdiff_t>(b * sd));
  }
  return Q;
}

/// With request_time, the states asked for at a known time (UserState::now) re-encoded as of then
/// into `timed` (copies of their windows; the cached states stay as they are); `states` is pointed
/// at the copies.
void encode_as_of_request(const SequentialModel::Impl& m, std::vector<const models::UserState*>& states,
                          std::vector<models::UserState>& timed, const std::string& kind) {
  if (!m.request_time) return;
  std::size_t n = 0;
  for (const auto* s : states) n += s->now && !s->history.empty() ? 1 : 0;
  if (n == 0) return;
  timed.reserve(n);
  std::vector<const std::vector<data::Event>*> windows;
  std::vector<std::optional<std::int64_t>> nows;
  std::vector<float*> rows;
  for (auto& s : states) {
    if (!s->now || s->history.empty()) continue;
    if (s->vector.size() != static_cast<std::size_t>(m.state_dim()))
      throw InvalidInput(kind + ": user state was not made by this model");
    models::UserState t;  // what scoring reads: the window (the repeat bonus), the time, the vector
    t.user = s->user;
    t.history = m.window(s->history);
    t.now = s->now;
    t.vector = s->vector;
    t.version = s->version;
    timed.push_back(std::move(t));
    s = &timed.back();
    windows.push_back(&timed.back().history);
    nows.push_back(timed.back().now);
    rows.push_back(timed.back().vector.data());
  }
  encode_windows(m, windows, nows, rows);
}

}  // namespace

void SequentialModel::score_batch(const std::vector<const models::UserState*>& asked, float* out) const {
  std::vector<const models::UserState*> states = asked;
  std::vector<models::UserState> timed;
  encode_as_of_request(*impl_, states, timed, kind_);
  if (impl_->n_domains > 0 || impl_->net->category) {
    require_fitted();
    auto Q = state_rows(states, static_cast<std::size_t>(impl_->state_dim()), kind_);
    const c10::InferenceMode inference;
    auto q = torch::from_blob(Q.data(), {static_cast<int64_t>(states.size()), impl_->state_dim()});
    // Each item with its own domain's query (crossdomain); with category_softmax the inner products
    // become the class-factored log-probabilities.
    auto v = torch::from_blob(const_cast<float*>(impl_->item_matrix.data()), {n_items_, impl_->d});
    auto sc = impl_->logits(q, v, torch::Tensor());
    if (impl_->net->category) sc = impl_->net->category->log_probs(q, sc);
    sc = sc.contiguous();
    std::copy(sc.data_ptr<float>(), sc.data_ptr<float>() + sc.numel(), out);
    for (std::size_t b = 0; b < states.size(); ++b) mask_padding(out + b * static_cast<std::size_t>(n_items_));
  } else {
    score_by_matrix(states, impl_->item_matrix.data(), static_cast<int>(impl_->d), out);
  }
  for (std::size_t b = 0; b < states.size(); ++b)
    impl_->add_repeat_bonus(*states[b], out + b * static_cast<std::size_t>(n_items_), n_items_);
}

std::vector<float> SequentialModel::query_vector(const models::UserState& state) const {
  std::vector<const models::UserState*> states{&state};
  std::vector<models::UserState> timed;
  encode_as_of_request(*impl_, states, timed, kind_);
  return states.front()->vector;
}

std::vector<models::Attribution> SequentialModel::explain(const models::UserState& s, std::int32_t item) const {
  return explain_batch(s, {item}).front();
}

std::vector<std::vector<models::Attribution>> SequentialModel::explain_batch(
    const models::UserState& s, const std::vector<std::int32_t>& items) const {
  require_fitted();
  for (const auto item : items)
    if (item <= 0 || item >= n_items_) throw InvalidInput(kind_ + ": item index out of range");
  std::vector<std::vector<models::Attribution>> out(items.size());
  if (s.history.empty() || items.empty()) return out;
  torch::NoGradGuard g;
  const auto ev = impl_->window(s.history);
  const auto n = static_cast<int64_t>(ev.size()), m = static_cast<int64_t>(items.size());
  const std::size_t first = s.history.size() - ev.size();
  // Row 0: the whole window; row 1 + k: the window without event k (left-padded by one). With a
  // single event the occluded history is empty and the event carries the item's whole score.
  const int64_t rows = n > 1 ? n + 1 : 1;
  Impl::Buffer buf(rows, n, *impl_);
  buf.set_events(*impl_, 0, 0, ev, s.now);
  for (int64_t drop = 0; rows > 1 && drop < n; ++drop) {
    auto without_one = ev;
    without_one.erase(without_one.begin() + drop);
    buf.set_events(*impl_, drop + 1, 1, without_one, s.now);
  }
  auto h = impl_->net->encode(buf.features()).select(1, n - 1).contiguous();  // [rows, state_dim]
  std::vector<int64_t> ids(items.begin(), items.end());
  auto id = torch::tensor(ids, torch::kLong);
  auto sc = impl_->item_scores(h, id).contiguous();  // [rows, m]
  const float* v = sc.data_ptr<float>();
  for (int64_t i = 0; i < m; ++i) {
    auto& attr = out[static_cast<std::size_t>(i)];
    attr.reserve(ev.size());
    for (int64_t p = 0; p < n; ++p) {
      const float w = rows > 1 ? v[i] - v[(p + 1) * m + i] : v[i];
      attr.push_back({first + static_cast<std::size_t>(p), ev[static_cast<std::size_t>(p)].item, w});
    }
    std::stable_sort(attr.begin(), attr.end(), [](const auto& a, const auto& b) { return a.weight > b.weight; });
  }
  return out;
}

const float* SequentialModel::item_embeddings(int* dim) const {
  *dim = static_cast<int>(impl_->d);
  // With a repeat bonus, per-domain queries or category_softmax the score is not one plain inner product.
  if (impl_->repeat_behaviors > 0 || impl_->n_domains > 0 || impl_->n_classes > 0) return nullptr;
  return impl_->item_matrix.data();
}

void SequentialModel::save_weights(const std::string& path) const {
  require_fitted();
  torch::serialize::OutputArchive archive;
  impl_->net->save(archive);
  archive.write("driftrec_shape", impl_->shape_tensor(n_items_, n_users_));
  try {
    archive.save_to(path);
  } catch (const c10::Error& e) {
    throw IoError(path + ": cannot write weights: " + e.what_without_backtrace());
  }
}

void SequentialModel::load_weights(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::Tensor shape;
    archive.read("driftrec_shape", shape);
    if (shape.numel() != 7 && shape.numel() != 8 && shape.numel() != 9 && shape.numel() != 14 && shape.numel() != 15 &&
        shape.numel() != 16 && shape.numel() != 17)
      throw CorruptModel(path + ": weights were written by another version of " + kind_);
    const auto n_items = shape[0].item<int64_t>(), n_users = shape[1].item<int64_t>();
    if (n_items < 2) throw CorruptModel(path + ": bad item count");
    auto& m = *impl_;
    m.n_behaviors = shape[2].item<int64_t>();
    m.gaps = shape[3].item<int64_t>() != 0;
    m.n_attributes = shape[4].item<int64_t>();
    m.attr_width = shape[5].item<int64_t>();
    m.times = shape[6].item<int64_t>() != 0;
    m.repeat_behaviors = shape.numel() > 7 ? shape[7].item<int64_t>() : 0;
    m.n_domains = shape.numel() > 8 ? shape[8].item<int64_t>() : 0;
    m.item_domain = torch::zeros({n_items}, torch::kLong);  // the real table is a buffer in the archive
    m.text_kind = shape.numel() > 9 ? shape[9].item<int64_t>() : 0;
    m.n_tokens = shape.numel() > 9 ? shape[10].item<int64_t>() : 0;
    m.max_tokens = shape.numel() > 9 ? shape[11].item<int64_t>() : 0;
    m.token_dim = shape.numel() > 9 ? shape[12].item<int64_t>() : 0;
    m.feature_dim = shape.numel() > 9 ? shape[13].item<int64_t>() : 0;
    m.n_classes = shape.numel() > 14 ? shape[14].item<int64_t>() : 0;
    m.request_time = shape.numel() > 16 && shape[16].item<int64_t>() != 0;
    // Placeholders of the right shapes; the archive holds the real tables.
    m.attr_t = m.n_attributes > 0 ? torch::zeros({n_items, m.attr_width}, torch::kLong) : torch::Tensor();
    m.tokens_t = m.text_kind > 0 ? torch::zeros({n_items, m.max_tokens}, torch::kLong) : torch::Tensor();
    m.words_t = torch::Tensor();
    m.features_t = m.feature_dim > 0 ? torch::zeros({n_items, m.feature_dim}) : torch::Tensor();
    m.known_t = torch::ones({n_items});
    // category_softmax: the archive holds the real classes (and pairs); the placeholder gives every
    // class an item and every item a pair.
    const int64_t pairs = shape.numel() > 15 ? shape[15].item<int64_t>() : 0;
    m.item_class_t = torch::arange(pairs > 0 ? pairs : n_items, torch::kLong) % std::max<int64_t>(1, m.n_classes);
    m.class_bias_t = torch::zeros({m.item_class_t.numel()});
    m.pair_item_t = pairs > 0 ? torch::arange(pairs, torch::kLong).clamp_max(n_items - 1) : torch::Tensor();
    m.build(config_, n_items);
    m.net->load(archive);
    m.net->eval();
    n_items_ = static_cast<std::int32_t>(n_items);
    n_users_ = static_cast<std::int32_t>(n_users);
    m.snapshot_items();
  } catch (const c10::Error& e) {
    throw CorruptModel(path + ": cannot read " + kind_ + " weights: " + e.what_without_backtrace());
  }
}

}  // namespace driftrec::nn
