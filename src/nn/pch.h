#pragma once
// Precompiled header of the nn layer: the one place that includes <torch/torch.h>.
#include <torch/torch.h>
