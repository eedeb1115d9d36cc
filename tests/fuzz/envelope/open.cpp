// libFuzzer target: the envelope opener on a hostile return, configured as in production (AgII's
// decryption key, VDAB's signing certificate pinned, the default size limit). It must never crash;
// a refused file leaves nothing under the output name, an accepted one exactly the reported bytes.
// The same file is opened into memory too (the path a run takes): it must give the same verdict
// and, when accepted, the same bytes.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "kbix/envelope/envelope.hpp"
#include "kbix/envelope/sealed_bytes.hpp"

namespace {

namespace fs = std::filesystem;

const kbix::Opener& opener() {
  static const kbix::Opener loaded = [] {
    const fs::path keys = KBIX_ENVELOPE_TEST_KEYS;
    kbix::OpenerConfig config{keys / "agii-enc-rsa.crt",
                              keys / "agii-enc-rsa.key",
                              std::nullopt,
                              {},
                              {keys / "vdab-sign-rsa.crt"}};
    auto made = kbix::Opener::create(config);
    if (!made) std::abort();  // the build's example keys are missing
    return std::move(*made);
  }();
  return loaded;
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    const fs::path made =
        fs::temp_directory_path() / ("kbix-open-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(made);
    return made;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path input = scratch() / "return.csv.p7m";
  const fs::path output = scratch() / "return.csv";
  std::ofstream(input, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  auto opened = opener().open(input, output);
  auto in_memory = kbix::open_into_memory(opener(), input);
  if (opened.has_value() != in_memory.has_value()) std::abort();
  std::error_code error;
  if (!opened) {
    if (fs::exists(output)) std::abort();  // nothing partial is ever visible
    if (opened.error().code != in_memory.error().code) std::abort();
  } else {
    if (fs::file_size(output, error) != opened->plaintext_bytes) std::abort();
    if (in_memory->size() != opened->plaintext_bytes) std::abort();
    std::ifstream file(output, std::ios::binary);
    const std::string on_disk((std::istreambuf_iterator<char>(file)), {});
    std::string in_ram(on_disk.size(), '\0');
    if (::pread(in_memory->fd(), in_ram.data(), in_ram.size(), 0) !=
            static_cast<ssize_t>(in_ram.size()) ||
        in_ram != on_disk) {
      std::abort();
    }
    fs::remove(output, error);
  }
  fs::remove(input, error);
  return 0;
}
