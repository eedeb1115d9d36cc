// The main() of a fuzz target's replay executable (cmake/kbix.cmake, kbix_add_fuzzer): feeds each
// file of the seed directory to LLVMFuzzerTestOneInput once, in name order, so that the normal
// (non-fuzz) build runs every seed as a CTest test. A seed that makes the target abort fails it.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " SEED_DIR\n";
    return 2;
  }
  std::vector<fs::path> seeds;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(argv[1], error)) {
    if (entry.is_regular_file()) seeds.push_back(entry.path());
  }
  if (error || seeds.empty()) {
    std::cerr << "no seeds in " << argv[1] << " (every fuzz target needs some)\n";
    return 1;
  }
  std::sort(seeds.begin(), seeds.end());
  for (const auto& seed : seeds) {
    std::ifstream in(seed, std::ios::binary);
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
    bytes.push_back('\0');  // never hand a null pointer, even for an empty seed
    std::cout << "seed " << seed.filename().string() << " (" << bytes.size() - 1 << " bytes)"
              << std::endl;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size() - 1);
  }
  std::cout << seeds.size() << " seeds replayed\n";
  return 0;
}
