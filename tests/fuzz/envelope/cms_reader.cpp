// libFuzzer target: the bounded CMS walker must never crash, hang or read out of bounds, and
// whatever it accepts must have a consistent outline: the streamed content has the outlined size,
// and the detached copy is exactly the file minus the content, re-encoded.
#include "kbix/envelope/cms_reader.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  kbix::MemorySource source(bytes);
  kbix::CmsLimits limits;
  limits.max_total_bytes = 1 << 20;
  auto outline = kbix::outline_cms(source, limits);
  if (!outline) return 0;
  if (outline->total_bytes != size) std::abort();
  if (outline->mac_offset && *outline->mac_offset + outline->mac_length > size) std::abort();
  if (!outline->content) return 0;
  if (outline->content->end > size || outline->content->start >= outline->content->end) {
    std::abort();
  }

  kbix::MemorySource from_content(bytes.subspan(outline->content->start));
  std::uint64_t streamed = 0;
  auto status = kbix::stream_content(
      from_content, *outline,
      [&](std::span<const std::uint8_t> piece) {
        streamed += piece.size();
        return kbix::ok();
      },
      limits);
  if (!status || streamed != outline->content_bytes) std::abort();

  const int fd = ::memfd_create("cms", 0);
  if (fd < 0) return 0;
  if (::write(fd, data, size) == static_cast<ssize_t>(size)) {
    auto detached = kbix::read_detached(fd, *outline, 1 << 20);
    if (!detached) std::abort();
    if (detached->size() > size - (outline->content->end - outline->content->start)) std::abort();
  }
  ::close(fd);
  return 0;
}
