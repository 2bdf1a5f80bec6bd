#pragma once
// Helpers shared by the unit tests: a fresh temporary directory, small file writers, and the message
// of an expected exception.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <utility>

namespace driftrec::test {

/// The what() of the E that `f` throws, or "no error" when it throws nothing (another exception
/// type propagates and fails the test). For checks on what a refusal says.
template <class E, class F>
std::string thrown_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

/// For EXPECT_TRUE: `f` throws an E whose what() contains `part`; the failure names what it said.
template <class E, class F>
::testing::AssertionResult throws_with(F&& f, const std::string& part) {
  const auto what = thrown_message<E>(std::forward<F>(f));
  if (what.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected a message containing \"" << part << "\", got: " << what;
}

/// A temporary directory removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("driftrec_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` to name and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace driftrec::test
