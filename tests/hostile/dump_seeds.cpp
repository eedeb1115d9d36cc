// Writes the hostile corpus's extract and return inputs as seeds of the fuzz targets that read
// them (tests/fuzz/seeds/domain_export_fuzz/, .../domain_merge_fuzz/), one file per case named by
// its id; inputs over 64 KiB are left out (the fuzzer grows big inputs itself). Run by hand when
// the corpus changes:  build/tests/hostile/hostile_fuzz_seeds tests/fuzz/seeds
#include <filesystem>
#include <fstream>
#include <iostream>

#include "hostile/corpus.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::cerr << "usage: hostile_fuzz_seeds SEEDS_DIR\n";
    return 2;
  }
  int written = 0;
  for (const auto& c : kbix::test::load_hostile_corpus()) {
    const char* target = c.kind == "extract"  ? "domain_export_fuzz"
                         : c.kind == "return" ? "domain_merge_fuzz"
                                              : nullptr;
    if (target == nullptr) continue;
    const std::string input = kbix::test::expand_template(c.input);
    if (input.size() > 64 * 1024) continue;
    const fs::path dir = fs::path(argv[1]) / target;
    fs::create_directories(dir);
    std::ofstream(dir / ("hostile-" + c.id), std::ios::binary) << input;
    ++written;
  }
  std::cout << written << " seeds written\n";
  return 0;
}
