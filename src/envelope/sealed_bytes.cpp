#include "kbix/envelope/sealed_bytes.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "internal/memory_file.hpp"
#include "internal/open_target.hpp"

namespace kbix {
namespace {

// Structure around the content that a sealed file may hold beyond max_bytes (certificates,
// recipient and signer infos; real files hold a few kilobytes of it).
constexpr std::uint64_t kStructureAllowanceBytes = 1 << 20;

using envelope_detail::MemoryFile;

// Copies the whole content of `file` (at most `limit` bytes) into a SecretBytes.
Result<SecretBytes> read_all(const MemoryFile& file, std::size_t limit, std::string_view name) {
  const off_t size = ::lseek(file.fd(), 0, SEEK_END);
  if (size < 0) return fail("io.memory", std::string(name) + ": cannot size the memory file");
  if (static_cast<std::uint64_t>(size) > limit) {
    return fail("envelope.too_large", std::string(name) + ": the content is " +
                                          std::to_string(size) + " bytes, more than the limit of " +
                                          std::to_string(limit));
  }
  SecretBytes out(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(file.fd(), out.writable().data() + done, out.size() - done,
                                static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail("io.memory", std::string(name) + ": cannot read the memory file");
    done += static_cast<std::size_t>(got);
  }
  return out;
}

// open_bytes' target: one anonymous memory file, first the decrypted SignedData, then (moved to
// its start in place) the verified content. A second file would cost a second copy of the
// content in memory, and another pass to wipe it.
class MemoryTarget final : public envelope_detail::OpenTarget {
 public:
  Result<int> scratch() override {
    auto created = MemoryFile::create("kbix-open-content");
    if (!created) return fail(std::move(created).error());
    file_.emplace(std::move(*created));
    return file_->fd();
  }
  Result<int> output() override { return file_->fd(); }
  std::string output_label() const override { return "memory file of the opened content"; }
  Status commit() override { return ok(); }
  std::optional<MemoryFile>& content() { return file_; }

 private:
  std::optional<MemoryFile> file_;
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
  return read_all(*target.content(), max_bytes, input.filename().string());
}

OpenedInMemory::OpenedInMemory(std::unique_ptr<envelope_detail::MemoryFile> content,
                               OpenReport report)
    : content_(std::move(content)), report_(std::move(report)) {}
OpenedInMemory::OpenedInMemory(OpenedInMemory&&) noexcept = default;
OpenedInMemory& OpenedInMemory::operator=(OpenedInMemory&&) noexcept = default;
OpenedInMemory::~OpenedInMemory() = default;

int OpenedInMemory::fd() const noexcept {
  return content_->fd();
}

Result<InputFile> OpenedInMemory::input(const std::string& label) const {
  return InputFile::adopt(::fcntl(content_->fd(), F_DUPFD_CLOEXEC, 0), label, "io.read");
}

Result<OpenedInMemory> open_into_memory(const Opener& opener, const std::filesystem::path& input) {
  MemoryTarget target;
  auto report = opener.open_to(input, target, std::numeric_limits<std::uint64_t>::max());
  if (!report) return fail(std::move(report).error());
  return OpenedInMemory(std::make_unique<MemoryFile>(std::move(*target.content())),
                        std::move(*report));
}

}  // namespace kbix
