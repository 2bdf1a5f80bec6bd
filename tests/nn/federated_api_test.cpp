// The public federated API a device application embeds (federated_client.h, federated_server.h,
// federated_update.h): the update's wire format refuses malformed bytes, clients on their own copy
// of the network and their own data, talking to a server through serialized updates, give exactly
// the model of the in-process simulation, and the server rejects bad updates without storing any
// part of them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "../unit/small_split.h"
#include "driftrec/core/error.h"
#include "driftrec/federated/secure_aggregation.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/federated_client.h"
#include "driftrec/nn/federated_server.h"
#include "driftrec/nn/register.h"
#include "driftrec/nn/sequential.h"

using namespace driftrec;

namespace {
const test::SmallSplit& fed_data() {
  static const test::SmallSplit d(150, 100, 4, 21);
  return d;
}

nlohmann::json fed_config(nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json c = {{"dim", 16},       {"max_len", 20},          {"layers", 1},       {"loss", "sampled"},
                      {"negatives", 16}, {"dropout", 0.0},         {"warmup_steps", 0}, {"lr", 1e-2},
                      {"fed_rounds", 2}, {"fed_client_rate", 0.5}, {"eval_every", 0},   {"attributes", true}};
  for (const auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

models::FitOptions options() {
  models::FitOptions o;
  o.seed = 3;
  o.threads = 1;
  return o;
}

std::unique_ptr<nn::SequentialModel> prepared(const nlohmann::json& c) {
  auto m = std::make_unique<nn::SequentialModel>("sasrec", nn::SequentialModel::params("sasrec").resolve(c));
  m->prepare(fed_data().split.train, options());
  return m;
}

/// The users that are clients, by client id (those with two or more training events, in order).
std::vector<std::int32_t> client_users() {
  const auto& train = fed_data().split.train;
  std::vector<std::int32_t> users;
  for (std::int32_t u = 1; u < train.n_users(); ++u)
    if (train.log.user_length(u) >= 2) users.push_back(u);
  return users;
}

double max_item_diff(const models::Model& a, const models::Model& b) {
  int dim = 0;
  const float* x = a.item_embeddings(&dim);
  const float* y = b.item_embeddings(&dim);
  double d = 0;
  for (std::size_t k = 0; k < static_cast<std::size_t>(a.n_items()) * static_cast<std::size_t>(dim); ++k)
    d = std::max(d, static_cast<double>(std::abs(x[k] - y[k])));
  return d;
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/driftrec_fedapi_" + name + "_" + std::to_string(::getpid());
}
}  // namespace

TEST(FederatedUpdate, RoundTripsAndRefusesMalformedBytes) {
  nn::FederatedUpdate u;
  u.round = 7;
  u.client = 123456;
  u.dense = {1.5f, -2.0f, 0.0f};
  u.rows = {3, 9};
  u.row_values = {0.25f, -0.5f, 1e-8f, 3.0f};
  const auto bytes = u.serialize();
  EXPECT_EQ(bytes.size(), u.wire_size());
  const auto back = nn::FederatedUpdate::parse(bytes);
  EXPECT_EQ(back.round, 7);
  EXPECT_EQ(back.client, 123456);
  EXPECT_EQ(back.dense, u.dense);
  EXPECT_EQ(back.rows, u.rows);
  EXPECT_EQ(back.row_values, u.row_values);
  EXPECT_FALSE(back.is_masked());
  auto all = u;  // every row of the tables: the row ids stay off the wire
  all.rows = {0, 1};
  const auto all_bytes = all.serialize();
  EXPECT_EQ(all_bytes.size(), all.wire_size());
  EXPECT_EQ(all_bytes.size() + 2 * sizeof(std::int64_t), bytes.size());
  EXPECT_EQ(nn::FederatedUpdate::parse(all_bytes).rows, all.rows);
  auto few = all_bytes;  // a row range longer than its values
  few[32] = 9;
  EXPECT_THROW(nn::FederatedUpdate::parse(few), InvalidInput);
  nn::FederatedUpdate m;
  m.round = 1;
  m.client = 2;
  m.masked = {~0ULL, 5};
  EXPECT_EQ(nn::FederatedUpdate::parse(m.serialize()).masked, m.masked);
  EXPECT_THROW(nn::FederatedUpdate::parse(""), InvalidInput);
  EXPECT_THROW(nn::FederatedUpdate::parse("XRFU" + bytes.substr(4)), InvalidInput);
  EXPECT_THROW(nn::FederatedUpdate::parse(bytes.substr(0, bytes.size() - 1)), InvalidInput);
  EXPECT_THROW(nn::FederatedUpdate::parse(bytes + "x"), InvalidInput);
  auto version = bytes;
  version[4] = 9;
  EXPECT_THROW(nn::FederatedUpdate::parse(version), InvalidInput);
  auto huge = bytes;  // a forged count far beyond the bytes
  std::memset(&huge[24], 0xFF, 8);
  EXPECT_THROW(nn::FederatedUpdate::parse(huge), InvalidInput);
  auto mixed = u;  // a masked update with plain parts
  mixed.masked = {1};
  EXPECT_THROW(nn::FederatedUpdate::parse(mixed.serialize()), InvalidInput);
}

TEST(FederatedApi, DevicesAndServerThroughSerializedUpdatesGiveTheSimulatedModel) {
  const auto c = fed_config();
  const auto& train = fed_data().split.train;
  // The simulation: fit with fed_rounds.
  nn::register_neural_models();
  auto simulated = models::create_model("sasrec", c);
  simulated->fit(train, options());
  // The same federation through the public API: a server model, one device model whose weights are
  // replaced by the server's each round, and per device only its user's own events.
  auto server_model = prepared(c);
  auto device = prepared(c);
  const auto users = client_users();
  nn::FederatedServer server(*server_model, users.size(), options().seed);
  const auto weights = temp_path("weights");
  std::vector<data::Dataset> own(users.size());
  std::vector<nn::FederatedClient> clients;
  for (std::size_t id = 0; id < users.size(); ++id) {
    std::vector<bool> keep(train.log.size(), false);
    for (auto r = train.log.user_begin(users[id]); r < train.log.user_end(users[id]); ++r)
      keep[static_cast<std::size_t>(r)] = true;
    own[id] = data::align_ids(data::subset(train, keep), train.users, train.items);
    ASSERT_EQ(own[id].log.size(), static_cast<std::size_t>(train.log.user_length(users[id])));
    clients.emplace_back(*device, own[id], users[id], static_cast<std::int32_t>(id));
  }
  std::size_t uploaded = 0;
  for (int round = 1; round <= 2; ++round) {
    const auto r = server.open_round(round);
    ASSERT_FALSE(r.clients.empty());
    server_model->save_weights(weights);
    device->load_weights(weights);
    torch::manual_seed(options().seed + static_cast<std::uint64_t>(round) * 7919);  // the simulation's negatives
    for (const auto id : r.clients) {
      const auto bytes = clients[static_cast<std::size_t>(id)].train(r).serialize();
      uploaded += bytes.size();
      server.receive(nn::FederatedUpdate::parse(bytes));
    }
    EXPECT_EQ(server.close_round(), r.clients.size());
  }
  std::filesystem::remove(weights);
  EXPECT_EQ(max_item_diff(*server_model, *simulated), 0.0);
  EXPECT_EQ(uploaded, simulated->training_report()["federated"]["bytes_up"].get<std::size_t>());
  // A client outside the round is refused.
  const auto r = server.open_round(3);
  std::int32_t outside = 0;
  while (r.takes_part(outside)) ++outside;
  EXPECT_THROW(clients[static_cast<std::size_t>(outside)].train(r), InvalidInput);
  EXPECT_THROW(server.open_round(4), InvalidInput);  // round 3 is still open
}

TEST(FederatedApi, TheServerRejectsBadUpdatesAndKeepsNothingOfThem) {
  const auto c = fed_config({{"fed_rounds", 1}, {"fed_client_rate", 1.0}});
  const auto& train = fed_data().split.train;
  const auto users = client_users();
  auto model = prepared(c), reference = prepared(c);
  nn::FederatedServer server(*model, users.size(), 1), clean(*reference, users.size(), 1);
  nn::FederatedClient client(*model, train, users[4], 4);
  const auto r = server.open_round(1);
  clean.open_round(1);
  const auto good = client.train(r);
  ASSERT_FALSE(good.rows.empty());
  auto bad = [&](auto edit) {
    auto u = good;
    edit(u);
    EXPECT_THROW(server.receive(u), InvalidInput);
  };
  bad([](auto& u) { u.round = 2; });
  bad([&](auto& u) { u.client = static_cast<std::int32_t>(users.size()); });
  bad([](auto& u) { u.dense.pop_back(); });
  bad([](auto& u) { u.row_values.pop_back(); });
  bad([](auto& u) { u.rows.back() = 1 << 30; });
  bad([](auto& u) { std::swap(u.rows[0], u.rows[1]); });
  bad([](auto& u) { u.rows[1] = u.rows[0]; });
  bad([](auto& u) { u.row_values[3] = std::nanf(""); });
  bad([](auto& u) { u.dense[0] = INFINITY; });
  bad([](auto& u) { u.masked = {1, 2, 3}; });
  server.receive(good);
  EXPECT_THROW(server.receive(good), InvalidInput);  // once per round
  clean.receive(good);
  EXPECT_EQ(server.close_round(), 1u);
  EXPECT_EQ(clean.close_round(), 1u);
  EXPECT_EQ(max_item_diff(*model, *reference), 0.0);
  EXPECT_THROW(server.receive(good), InvalidInput);                      // no round open
  EXPECT_THROW(nn::FederatedClient(*model, train, 0, 0), InvalidInput);  // the padding user has no events
}

TEST(FederatedApi, UnderSecureAggregationTheServerOnlySeesMaskedUpdatesAndGetsTheirSum) {
  const auto& train = fed_data().split.train;
  const auto users = client_users();
  const auto secure_c = fed_config({{"fed_rounds", 1}, {"fed_secure", true}, {"fed_mask_neighbors", 3}});
  const auto plain_c = fed_config({{"fed_rounds", 1}});
  auto secure_model = prepared(secure_c), plain_model = prepared(plain_c);
  nn::FederatedServer secure(*secure_model, users.size(), 5), plain(*plain_model, users.size(), 5);
  const auto rs = secure.open_round(1), rp = plain.open_round(1);
  ASSERT_EQ(rs.clients, rp.clients);
  ASSERT_TRUE(rs.secure);
  for (std::size_t k = 0; k < rs.clients.size(); ++k) {
    const auto id = rs.clients[k];
    if (k % 5 == 4) continue;  // dropped out after masking
    torch::manual_seed(100 + static_cast<std::uint64_t>(id));
    const auto masked = nn::FederatedClient(*secure_model, train, users[static_cast<std::size_t>(id)], id).train(rs);
    torch::manual_seed(100 + static_cast<std::uint64_t>(id));
    const auto clear = nn::FederatedClient(*plain_model, train, users[static_cast<std::size_t>(id)], id).train(rp);
    ASSERT_TRUE(masked.is_masked());
    EXPECT_TRUE(masked.dense.empty() && masked.rows.empty());
    // The masked weights look nothing like the change: most unchanged weights are not 0.
    std::size_t zeros = 0;
    for (auto v : masked.masked) zeros += v == 0;
    EXPECT_LT(zeros, masked.masked.size() / 100);
    EXPECT_THROW(secure.receive(clear), InvalidInput);
    secure.receive(masked);
    plain.receive(clear);
  }
  secure.close_round();
  plain.close_round();
  EXPECT_LT(max_item_diff(*secure_model, *plain_model), 1e-4);  // fixed point rounds at 2^-24 per entry
  EXPECT_GT(max_item_diff(*secure_model, *prepared(secure_c)), 1e-3);
}
