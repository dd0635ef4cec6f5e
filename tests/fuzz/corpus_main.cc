// A main() for libFuzzer targets in builds without libFuzzer (gcc, or clang
// without -Dfuzz=true): runs LLVMFuzzerTestOneInput once on every file named
// on the command line, or inside a directory named there (recursively, in
// sorted order). Linked with a fuzz target's source, it makes the checked-in
// seed corpus a regression test in every build.
//
// Usage: <runner> <file or directory>...
// Exits non-zero if a path is missing or no input was found, so a broken
// corpus path cannot pass silently. A crash names its input on stderr.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Optional in a target, as with libFuzzer.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv)
    __attribute__((weak));

namespace {

namespace fs = std::filesystem;

bool CollectInputs(const fs::path& path, std::vector<fs::path>& out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) found.push_back(it->path());
    }
    if (ec) {
      std::fprintf(stderr, "corpus: cannot list %s: %s\n", path.c_str(),
                   ec.message().c_str());
      return false;
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
    return true;
  }
  if (fs::is_regular_file(path, ec)) {
    out.push_back(path);
    return true;
  }
  std::fprintf(stderr, "corpus: %s is not a file or directory\n", path.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!CollectInputs(argv[i], inputs)) return 2;
  }
  if (inputs.empty()) {
    std::fprintf(stderr,
                 "usage: %s <corpus file or directory>...\n"
                 "corpus: no inputs found\n",
                 argv[0]);
    return 2;
  }
  for (const fs::path& input : inputs) {
    std::ifstream in(input, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
    if (!in.eof() && in.fail()) {
      std::fprintf(stderr, "corpus: cannot read %s\n", input.c_str());
      return 2;
    }
    // Written before running, so a crash's last line names the input.
    std::fprintf(stderr, "running %s (%zu bytes)\n", input.c_str(),
                 data.size());
    // Never a null pointer, even for an empty input (as with libFuzzer):
    // targets may hand it to memcpy.
    static const uint8_t kEmpty = 0;
    LLVMFuzzerTestOneInput(data.empty() ? &kEmpty : data.data(), data.size());
  }
  std::printf("corpus: ran %zu inputs\n", inputs.size());
  return 0;
}
