#include "kbix/envelope/sealed_bytes.hpp"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "internal/open_target.hpp"

namespace kbix {
namespace {

// Structure around the content that a sealed file may hold beyond max_bytes (certificates,
// recipient and signer infos; real files hold a few kilobytes of it).
constexpr std::uint64_t kStructureAllowanceBytes = 1 << 20;

// An anonymous memory file (memfd): no name in any file system; its content is wiped before it
// is closed.
class MemoryFile {
 public:
  static Result<MemoryFile> create(const char* name) {
    const int fd = ::memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
      return fail("io.memory",
                  std::string("cannot create an anonymous memory file: ") + std::strerror(errno));
    }
    return MemoryFile(fd);
  }
  MemoryFile(MemoryFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  MemoryFile& operator=(MemoryFile&&) = delete;
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  ~MemoryFile() {
    if (fd_ < 0) return;
    wipe();
    ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

  Status write_all(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        return fail("io.memory", std::string("cannot write to an anonymous memory file: ") +
                                     std::strerror(errno));
      }
      bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
    return ok();
  }

  // Copies the whole content (at most `limit` bytes) into a SecretBytes.
  Result<SecretBytes> read_all(std::size_t limit, std::string_view name) const {
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size < 0) return fail("io.memory", std::string(name) + ": cannot size the memory file");
    if (static_cast<std::uint64_t>(size) > limit) {
      return fail("envelope.too_large",
                  std::string(name) + ": the content is " + std::to_string(size) +
                      " bytes, more than the limit of " + std::to_string(limit));
    }
    SecretBytes out(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t got =
          ::pread(fd_, out.writable().data() + done, out.size() - done, static_cast<off_t>(done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return fail("io.memory", std::string(name) + ": cannot read the memory file");
      done += static_cast<std::size_t>(got);
    }
    return out;
  }

 private:
  explicit MemoryFile(int fd) : fd_(fd) {}
  // Overwrites the pages in place (mapping them), then gives them back to the kernel.
  void wipe() noexcept {
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size > 0) {
      void* map = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ | PROT_WRITE,
                         MAP_SHARED, fd_, 0);
      if (map != MAP_FAILED) {
        OPENSSL_cleanse(map, static_cast<std::size_t>(size));
        ::munmap(map, static_cast<std::size_t>(size));
      }
    }
    (void)::ftruncate(fd_, 0);
  }
  int fd_ = -1;
};

// open_bytes' target: the scratch file and the output both in anonymous memory.
class MemoryTarget final : public envelope_detail::OpenTarget {
 public:
  Result<int> scratch() override { return make(scratch_, "kbix-open-scratch"); }
  Result<int> output() override { return make(output_, "kbix-open-content"); }
  std::string output_label() const override { return "memory file of the opened content"; }
  Status commit() override { return ok(); }
  const std::optional<MemoryFile>& content() const { return output_; }

 private:
  static Result<int> make(std::optional<MemoryFile>& slot, const char* name) {
    auto created = MemoryFile::create(name);
    if (!created) return fail(std::move(created).error());
    slot.emplace(std::move(*created));
    return slot->fd();
  }
  std::optional<MemoryFile> scratch_;
  std::optional<MemoryFile> output_;
};

}  // namespace

SecretBytes::SecretBytes(std::size_t size)
    : data_(size == 0 ? nullptr : std::make_unique<std::byte[]>(size)), size_(size) {}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  wipe();
}

void SecretBytes::wipe() noexcept {
  if (data_) OPENSSL_cleanse(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

Result<SealReport> seal_bytes(const Sealer& sealer, std::span<const std::byte> plain,
                              std::string_view name, const std::filesystem::path& output) {
  auto memory = MemoryFile::create("kbix-seal-bytes");
  if (!memory) return fail(std::move(memory).error());
  KBIX_TRY(memory->write_all(plain));
  return sealer.seal(memory->fd(), name, output);
}

Result<SecretBytes> open_bytes(const Opener& opener, const std::filesystem::path& input,
                               std::size_t max_bytes) {
  MemoryTarget target;
  auto report = opener.open_to(input, target, max_bytes + kStructureAllowanceBytes);
  if (!report) return fail(std::move(report).error());
  return target.content()->read_all(max_bytes, input.filename().string());
}

}  // namespace kbix
