// CmsReader: a small, bounded DER/BER walker for the outer layers of an untrusted CMS file.
//
// outline_cms reads a file once, front to back, in fixed-size chunks (constant memory whatever
// the file size) and reports its outline: the content type, where the content (ciphertext, or a
// SignedData's signed content) sits and how long it is, and where the AuthEnvelopedData MAC (the
// GCM tag) sits, its length and the declared one. It tells "truncated" from "malformed" from
// "not CMS at all", which OpenSSL's parser does not, lets the opener refuse a short tag before any
// decryption, and checks the version numbers and inner content type that the GCM tag does not
// cover. read_detached and stream_content then split a file into the small structure OpenSSL
// parses and the large content that is streamed. Every length is checked against the file, its
// parent and a named limit before it is used; nesting depth is bounded.
//
// Does NOT guarantee: that the file is valid CMS. It descends only into ContentInfo,
// Auth/EnvelopedData (RecipientInfo versions, EncryptedContentInfo, GCM parameters) and SignedData
// down to its content; everything else is skipped by length and left to OpenSSL, which parses and
// verifies it afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kbix/core/result.hpp"

namespace kbix {

// Receives streamed content octets; an error stops the stream and is passed on.
using OctetSink = std::function<Status(std::span<const std::uint8_t>)>;

// Where bytes come from: a file or memory (tests and the fuzz target).
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to out.size() bytes; 0 means end of input. Error "io.read".
  virtual Result<std::size_t> read(std::span<std::uint8_t> out) = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  Result<std::size_t> read(std::span<std::uint8_t> out) override;

 private:
  std::span<const std::uint8_t> bytes_;
};

class FileSource final : public ByteSource {
 public:
  static Result<FileSource> open(const std::filesystem::path& file);  // "io.open"
  // Takes ownership of an open descriptor (e.g. an unnamed scratch file), reading from its start.
  static Result<FileSource> adopt(int fd, const std::string& label);  // "io.open"
  FileSource(FileSource&& other) noexcept;
  FileSource& operator=(FileSource&&) = delete;
  FileSource(const FileSource&) = delete;
  ~FileSource() override;
  Result<std::size_t> read(std::span<std::uint8_t> out) override;
  Status seek(std::uint64_t offset);  // "io.read"
  int fd() const noexcept;

 private:
  FileSource(std::FILE* file, std::filesystem::path path) : file_(file), path_(std::move(path)) {}
  std::FILE* file_ = nullptr;
  std::filesystem::path path_;
};

struct CmsLimits {
  std::uint64_t max_total_bytes = 64ULL << 30;  // 64 GiB: far beyond any exchange file
  int max_depth = 24;                           // nested indefinite-length constructions
};

enum class CmsContentKind { auth_enveloped, enveloped, signed_data, other };

// Where one encoded value sits in the file.
struct DerElement {
  std::uint64_t start = 0;          // first tag byte
  std::uint64_t content_start = 0;  // first content byte
  std::uint64_t end = 0;            // one past the last byte (after end-of-contents if any)
  std::size_t tag_bytes = 1;
  bool indefinite = false;
};

struct CmsOutline {
  CmsContentKind kind = CmsContentKind::other;
  std::uint64_t total_bytes = 0;    // length of the whole ContentInfo encoding
  std::uint64_t content_bytes = 0;  // ciphertext (envelopes) or signed content octets
  // The content value (encryptedContent [0], or SignedData's eContent [0]) when present, and the
  // values around it, outermost first: ContentInfo, [0], the body, the content info.
  std::optional<DerElement> content;
  std::vector<DerElement> enclosing;
  std::optional<std::uint64_t> mac_offset;  // AuthEnvelopedData only: file offset of the tag
  std::size_t mac_length = 0;               // AuthEnvelopedData only: tag length in bytes
  std::size_t declared_tag_length = 0;      // AES-GCM only: aes-ICVlen of the parameters
};

// Walks one ContentInfo from `source`; the input must end right after it.
// Errors: "envelope.not_cms" (does not start like a ContentInfo), "envelope.truncated" (ends
// early), "envelope.malformed" (bad encoding, a length beyond its parent, too deep, trailing data).
// SignedData is walked too (its content is the eContent), so the opener can stream both layers.
Result<CmsOutline> outline_cms(ByteSource& source, const CmsLimits& limits = {});

// The file without its content value: a "detached" CMS structure for OpenSSL to parse in memory.
// Definite lengths of the enclosing values are re-encoded; indefinite ones are kept. Refuses
// ("envelope.malformed") when more than `max_bytes` would remain: only the content may be large.
Result<std::vector<std::uint8_t>> read_detached(int fd, const CmsOutline& outline,
                                                std::size_t max_bytes);

// Streams the content octets of `outline.content` to `sink`; `source` must be positioned at
// outline.content->start. Errors as outline_cms, and whatever `sink` returns.
Status stream_content(ByteSource& source, const CmsOutline& outline, const OctetSink& sink,
                      const CmsLimits& limits = {});

}  // namespace kbix
