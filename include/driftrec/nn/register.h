#pragma once
// LibTorch models (the `nn` layer). They live in the driftrec_nn library so that only its files
// pay for <torch/torch.h>; a program that wants them calls register_neural_models() once at
// start-up, before looking models up.

namespace driftrec::nn {

/// Adds the neural models (sasrec, ...) to the model registry. Idempotent.
void register_neural_models();

/// LibTorch's intra-op threads for inference (fit() sets its own from FitOptions::threads).
void set_threads(int threads);

}  // namespace driftrec::nn
