// driftrec privacy: the RDP accountant on its own (flags -> one library call -> print): the epsilon
// of a DP-SGD run, or the noise multiplier a budget needs.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "driftrec/core/error.h"
#include "driftrec/privacy/rdp_accountant.h"

namespace driftrec::cli {

Runner add_privacy(CLI::App& app, const GlobalFlags&) {
  struct Flags {
    double q = 0, noise = 0, epsilon = 0, delta = 1e-5, epochs = 0;
    long long steps = 0, n = 0, batch = 0;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--sampling-rate", f->q, "Poisson sampling rate per step (or give --n and --batch)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--n", f->n, "number of privacy units (users)")->check(CLI::PositiveNumber);
  app.add_option("--batch", f->batch, "expected units per step")->check(CLI::PositiveNumber);
  app.add_option("--steps", f->steps, "steps (or give --epochs with --n and --batch)")->check(CLI::NonNegativeNumber);
  app.add_option("--epochs", f->epochs, "passes over the units: steps = ceil(epochs * n / batch)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--noise", f->noise, "noise multiplier: prints the epsilon spent")->check(CLI::NonNegativeNumber);
  app.add_option("--epsilon", f->epsilon, "budget: prints the smallest noise multiplier that meets it")
      ->check(CLI::PositiveNumber);
  app.add_option("--delta", f->delta, "delta")->check(CLI::Range(1e-300, 1.0));
  return [f]() {
    double q = f->q;
    long long steps = f->steps;
    if (f->n > 0 && f->batch > 0) {
      if (f->batch > f->n) throw InvalidInput("--batch must not exceed --n");
      q = static_cast<double>(f->batch) / static_cast<double>(f->n);
      if (steps == 0) steps = static_cast<long long>(std::ceil(f->epochs * f->n / static_cast<double>(f->batch)));
    }
    if (!(q > 0)) throw InvalidInput("give --sampling-rate, or --n and --batch");
    if (steps <= 0) throw InvalidInput("give --steps, or --epochs with --n and --batch");
    if ((f->noise > 0) == (f->epsilon > 0)) throw InvalidInput("give exactly one of --noise and --epsilon");
    const double sigma = f->noise > 0 ? f->noise : privacy::calibrate_noise_multiplier(q, steps, f->epsilon, f->delta);
    const auto spent = privacy::dp_sgd_epsilon(q, sigma, steps, f->delta);
    std::printf("%s\n", nlohmann::json({{"sampling_rate", q},
                                        {"steps", steps},
                                        {"noise_multiplier", sigma},
                                        {"epsilon", spent.epsilon},
                                        {"delta", f->delta},
                                        {"rdp_order", spent.order}})
                            .dump()
                            .c_str());
    return 0;
  };
}

}  // namespace driftrec::cli
