#pragma once
// Readers for pretrained vectors: word vectors (word2vec text format, with or without its
// "count dim" header line, and GloVe text format) and per-item vectors (e.g. from a language
// model) as text lines or a NumPy .npy matrix with its ids beside it.
#include <cstdint>
#include <string>
#include <vector>

namespace driftrec::data {

/// Named vectors: row r (values[r * dim .. (r + 1) * dim)) belongs to ids[r].
struct VectorTable {
  std::vector<std::string> ids;
  int dim = 0;
  std::vector<float> values;
  std::size_t size() const { return ids.size(); }
  const float* row(std::size_t r) const { return values.data() + r * static_cast<std::size_t>(dim); }
};

/// word2vec or GloVe text: one "word v1 v2 ... vD" per line (spaces), an optional first line
/// "count dim". Throws ParseError (file, line, field) on a malformed line or a dimension change,
/// IoError when the file cannot be read.
VectorTable read_word_vectors(const std::string& path);

/// Item vectors. Text: one "item_id v1 v2 ..." per line, separated by spaces, tabs or commas
/// (a first line whose numbers do not parse is taken as a header). `.npy`: a 2-D little-endian
/// float32 or float64 C-order matrix, with its item ids one per line in the file of the same name
/// ending in `.ids` (e.g. vectors.npy + vectors.ids). Throws ParseError / IoError.
VectorTable read_item_vectors(const std::string& path);

}  // namespace driftrec::data
