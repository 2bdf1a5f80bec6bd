#pragma once
// The messages of federated training of the sequential models (federated_client.h,
// federated_server.h): the round a server opens and the update a client uploads, with the update's
// wire format. A plain update carries the change of every dense weight (the encoder, in the
// model's parameter order) and of the rows of the row tables it touched (the item table, then the
// attribute table, in one row space: an attribute row r is sent as n_item_rows + r); a masked update
// (secure aggregation) carries every weight as a masked fixed-point integer and nothing else.
// Nothing in an update names the client's items beyond the rows it changed, and no loss or count
// leaves the client. Wire format (little-endian): "DRFU", version u32, round i64, client i32,
// flags u32 (1 = masked, 2 = the rows are 0 .. n-1 and their array is left out: a dense upload of
// every table row), then four u64 counts (dense, rows, row values, masked) and the arrays (f32,
// i64, f32, u64).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace driftrec::fed {
class SecureAggregation;
}

namespace driftrec::nn {

/// One client's upload for one round.
struct FederatedUpdate {
  std::int64_t round = 0;
  std::int32_t client = 0;
  std::vector<float> dense;           ///< plain: the change of every weight outside the row tables
  std::vector<std::int64_t> rows;     ///< plain: the row-table rows changed, ascending
  std::vector<float> row_values;      ///< plain: rows.size() x the row width, row after row
  std::vector<std::uint64_t> masked;  ///< secure aggregation: every weight, masked; the rest empty
  bool is_masked() const { return !masked.empty(); }
  /// The bytes serialize() produces, without producing them.
  std::uint64_t wire_size() const;
  std::string serialize() const;
  /// Throws InvalidInput for bytes that are not one complete update (wrong magic or version,
  /// truncated or trailing bytes, counts that do not fit, a masked update with plain parts).
  static FederatedUpdate parse(const std::string& bytes);
};

/// What a server opens a round with: the round number, the clients it sampled (ascending ids)
/// and, under secure aggregation, the round's masking session (shared by the sampled clients).
struct FederatedRound {
  std::int64_t round = 0;
  std::vector<std::int32_t> clients;
  std::shared_ptr<const fed::SecureAggregation> secure;  ///< null: plain uploads
  bool takes_part(std::int32_t client) const;
};

}  // namespace driftrec::nn
