#include "kbix/envelope/cms_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "internal/der_walker.hpp"

namespace kbix {

using namespace der;  // NOLINT: the walker is this file's vocabulary

// ---- sources -----------------------------------------------------------------------------------

Result<std::size_t> MemorySource::read(std::span<std::uint8_t> out) {
  const std::size_t count = std::min(out.size(), bytes_.size());
  std::copy_n(bytes_.begin(), count, out.begin());
  bytes_ = bytes_.subspan(count);
  return count;
}

Result<FileSource> FileSource::open(const std::filesystem::path& file) {
  std::FILE* handle = std::fopen(file.c_str(), "rbe");
  if (handle == nullptr) {
    return fail("io.open", file.string() + ": cannot open: " + std::strerror(errno));
  }
  return FileSource(handle, file);
}

Result<FileSource> FileSource::adopt(int fd, const std::string& label) {
  std::FILE* handle = fd < 0 ? nullptr : ::fdopen(fd, "rb");
  if (handle == nullptr) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return fail("io.open", label + ": cannot read: " + why);
  }
  FileSource source(handle, label);
  KBIX_TRY(source.seek(0));
  return source;
}

FileSource::FileSource(FileSource&& other) noexcept
    : file_(other.file_), path_(std::move(other.path_)) {
  other.file_ = nullptr;
}

FileSource::~FileSource() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<std::size_t> FileSource::read(std::span<std::uint8_t> out) {
  const std::size_t count = std::fread(out.data(), 1, out.size(), file_);
  if (count < out.size() && std::ferror(file_)) {
    return fail("io.read", path_.string() + ": read failed: " + std::strerror(errno));
  }
  return count;
}

Status FileSource::seek(std::uint64_t offset) {
  if (::fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) {
    return fail("io.read", path_.string() + ": seek failed: " + std::strerror(errno));
  }
  return ok();
}

int FileSource::fd() const noexcept {
  return ::fileno(file_);
}

// ---- walker ------------------------------------------------------------------------------------

namespace {

// DER contents of the content-type OIDs we know.
constexpr std::array<std::uint8_t, 9> kOidData{0x2a, 0x86, 0x48, 0x86, 0xf7,
                                               0x0d, 0x01, 0x07, 0x01};
constexpr std::array<std::uint8_t, 9> kOidSignedData{0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                     0x0d, 0x01, 0x07, 0x02};
constexpr std::array<std::uint8_t, 9> kOidEnvelopedData{0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                        0x0d, 0x01, 0x07, 0x03};
constexpr std::array<std::uint8_t, 9> kOidAes256Gcm{0x60, 0x86, 0x48, 0x01, 0x65,
                                                    0x03, 0x04, 0x01, 0x2e};
constexpr std::array<std::uint8_t, 11> kOidAuthEnvelopedData{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                             0x01, 0x09, 0x10, 0x01, 0x17};

DerElement element_of(const Header& h) {
  DerElement element;
  element.start = h.start;
  element.content_start = h.content_start;
  element.end = h.indefinite ? 0 : h.content_start + h.length;
  element.tag_bytes = h.tag_bytes;
  element.indefinite = h.indefinite;
  return element;
}

template <std::size_t N>
bool same_oid(const std::vector<std::uint8_t>& oid, const std::array<std::uint8_t, N>& known) {
  return oid.size() == N && std::equal(oid.begin(), oid.end(), known.begin());
}

Result<std::optional<Header>> required_child(Walker& walker, const Frame& frame, const char* what) {
  auto child = walker.next_child(frame);
  if (!child) return fail(std::move(child).error());
  if (!*child) return malformed(std::string("missing ") + what);
  return child;
}

// Reads a one-byte INTEGER and checks it against the allowed values.
Status expect_small_integer(Walker& walker, const Frame& frame,
                            std::initializer_list<std::uint8_t> allowed, const char* what) {
  KBIX_ASSIGN_OR_RETURN(auto child, required_child(walker, frame, what));
  if (!(child)->is(kClassUniversal, kTagInteger) || (child)->length != 1) {
    return malformed(std::string("expected ") + what);
  }
  KBIX_ASSIGN_OR_RETURN(auto value, walker.next_byte());
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    return malformed(std::string("unsupported ") + what);
  }
  return ok();
}

// RecipientInfos are not covered by the GCM tag and OpenSSL ignores their version numbers, so a
// changed version would go unnoticed: check them (RFC 5652 6.2). KeyTransRecipientInfo is a
// SEQUENCE with version 0 or 2, KeyAgreeRecipientInfo [1] with version 3; others are left to
// OpenSSL (kbix never writes them and cannot open them).
Status walk_recipient_infos(Walker& walker, const Header& set) {
  const Frame frame = Walker::frame_of(set);
  for (;;) {
    auto info = walker.next_child(frame);
    if (!info) return fail(std::move(info).error());
    if (!*info) return ok();
    const Header& h = **info;
    const bool transport = h.is(kClassUniversal, kTagSequence) && h.constructed;
    const bool agreement = h.is(kClassContext, 1) && h.constructed;
    if (!transport && !agreement) {
      KBIX_TRY(walker.skip(h, 2));
      continue;
    }
    const Frame inner = Walker::frame_of(h);
    if (transport) {
      KBIX_TRY(expect_small_integer(walker, inner, {0, 2}, "recipient info version"));
    } else {
      KBIX_TRY(expect_small_integer(walker, inner, {3}, "recipient info version"));
    }
    for (;;) {
      KBIX_ASSIGN_OR_RETURN(auto rest, walker.next_child(inner));
      if (!rest) break;
      KBIX_TRY(walker.skip(*rest, 3));
    }
  }
}

// AlgorithmIdentifier of the content cipher. For AES-GCM the parameters are
// GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }; OpenSSL
// trusts the MAC's own length and ignores aes-ICVlen, so we read it and let the opener insist.
Status walk_content_algorithm(Walker& walker, const Header& algorithm, CmsOutline& outline) {
  if (!algorithm.is(kClassUniversal, kTagSequence) || !algorithm.constructed) {
    return malformed("expected a content-encryption algorithm");
  }
  const Frame frame = Walker::frame_of(algorithm);
  KBIX_ASSIGN_OR_RETURN(auto type, required_child(walker, frame, "algorithm"));
  if (!(type)->is(kClassUniversal, kTagOid) || (type)->length > kMaxOidBytes) {
    return malformed("expected an algorithm");
  }
  KBIX_ASSIGN_OR_RETURN(auto oid, walker.read_bytes(static_cast<std::size_t>((type)->length)));
  auto parameters = walker.next_child(frame);
  if (!parameters) return fail(std::move(parameters).error());
  if (!same_oid(oid, kOidAes256Gcm) || !*parameters) {
    if (*parameters) KBIX_TRY(walker.skip(**parameters, 2));
    return walker.expect_end(frame);
  }
  if (!(*parameters)->is(kClassUniversal, kTagSequence) || !(*parameters)->constructed) {
    return malformed("expected GCM parameters");
  }
  const Frame gcm = Walker::frame_of(**parameters);
  auto nonce = required_child(walker, gcm, "GCM nonce");
  if (!nonce) return fail(std::move(nonce).error());
  if (!(*nonce)->is(kClassUniversal, kTagOctetString)) return malformed("expected a GCM nonce");
  KBIX_TRY(walker.skip(**nonce, 3));
  outline.declared_tag_length = 12;  // the DEFAULT
  KBIX_ASSIGN_OR_RETURN(auto icv, walker.next_child(gcm));
  if (icv) {
    if (!(icv)->is(kClassUniversal, kTagInteger) || (icv)->length != 1) {
      return malformed("expected a GCM tag length");
    }
    KBIX_ASSIGN_OR_RETURN(auto value, walker.next_byte());
    outline.declared_tag_length = value;
    KBIX_TRY(walker.expect_end(gcm));
  }
  return walker.expect_end(frame);
}

// EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
//                                     encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
Status walk_encrypted_content_info(Walker& walker, const Header& info, CmsOutline& outline) {
  if (!info.is(kClassUniversal, kTagSequence) || !info.constructed) {
    return malformed("expected EncryptedContentInfo");
  }
  const Frame frame = Walker::frame_of(info);
  // The inner content type is not covered by the GCM tag either: only id-data or id-signedData.
  auto type = required_child(walker, frame, "content type");
  if (!type) return fail(std::move(type).error());
  if (!(*type)->is(kClassUniversal, kTagOid) || (*type)->length > kMaxOidBytes) {
    return malformed("expected a content type");
  }
  KBIX_ASSIGN_OR_RETURN(auto oid, walker.read_bytes(static_cast<std::size_t>((*type)->length)));
  if (!same_oid(oid, kOidData) && !same_oid(oid, kOidSignedData)) {
    return malformed("unexpected encrypted content type");
  }
  KBIX_ASSIGN_OR_RETURN(auto algorithm,
                        required_child(walker, frame, "content-encryption algorithm"));
  KBIX_TRY(walk_content_algorithm(walker, *algorithm, outline));
  auto content = walker.next_child(frame);
  if (!content) return fail(std::move(content).error());
  if (*content) {
    if (!(*content)->is(kClassContext, 0)) return malformed("unexpected value in content info");
    KBIX_ASSIGN_OR_RETURN(auto octets, walker.stream_octets(**content, 1, OctetSink()));
    outline.content_bytes = octets;
    outline.content = element_of(**content);
    outline.content->end = walker.offset();
    KBIX_TRY(walker.expect_end(frame));
  }
  return ok();
}

// AuthEnvelopedData ::= SEQUENCE { version, originatorInfo [0] OPTIONAL, recipientInfos SET,
//   authEncryptedContentInfo, authAttrs [1] OPTIONAL, mac OCTET STRING, unauthAttrs [2] OPTIONAL }
// EnvelopedData is the same up to the content info, then unprotectedAttrs [1] OPTIONAL.
Status walk_envelope(Walker& walker, const Header& body, CmsOutline& outline) {
  if (!body.is(kClassUniversal, kTagSequence) || !body.constructed) {
    return malformed("expected an envelope SEQUENCE");
  }
  const Frame frame = Walker::frame_of(body);
  outline.enclosing.push_back(element_of(body));
  auto version = required_child(walker, frame, "version");
  if (!version) return fail(std::move(version).error());
  if (!(*version)->is(kClassUniversal, kTagInteger) || (*version)->length != 1) {
    return malformed("expected a version");
  }
  // Versions are not covered by the GCM tag, so only the values RFC 5083/5652 allow pass.
  KBIX_ASSIGN_OR_RETURN(auto number, walker.next_byte());
  const bool known_version = outline.kind == CmsContentKind::auth_enveloped
                                 ? number == 0
                                 : (number == 0 || number == 2 || number == 3 || number == 4);
  if (!known_version) return malformed("unsupported envelope version");

  auto child = required_child(walker, frame, "recipient infos");
  if (!child) return fail(std::move(child).error());
  if ((*child)->is(kClassContext, 0)) {  // originatorInfo
    KBIX_TRY(walker.skip(**child, 1));
    child = required_child(walker, frame, "recipient infos");
    if (!child) return fail(std::move(child).error());
  }
  if (!(*child)->is(kClassUniversal, kTagSet)) return malformed("expected recipient infos");
  KBIX_TRY(walk_recipient_infos(walker, **child));

  KBIX_ASSIGN_OR_RETURN(auto info, required_child(walker, frame, "encrypted content info"));
  outline.enclosing.push_back(element_of(*info));
  KBIX_TRY(walk_encrypted_content_info(walker, *info, outline));

  const bool authenticated = outline.kind == CmsContentKind::auth_enveloped;
  for (;;) {
    KBIX_ASSIGN_OR_RETURN(auto next, walker.next_child(frame));
    if (!next) break;
    const Header& h = *next;
    bool allowed = false;
    if (!authenticated) {
      allowed = h.is(kClassContext, 1);  // unprotectedAttrs
    } else if (outline.mac_offset) {
      allowed = h.is(kClassContext, 2);  // unauthAttrs
    } else if (h.is(kClassUniversal, kTagOctetString) && !h.constructed) {
      if (h.length > 64) return malformed("authentication tag too long");
      outline.mac_offset = h.content_start;
      outline.mac_length = static_cast<std::size_t>(h.length);
      allowed = true;
    } else if (h.is(kClassContext, 1)) {
      // authAttrs: never written by kbix or the openssl CLI, and kbix does not check them.
      return malformed("authenticated attributes are not supported");
    }
    if (!allowed) return malformed("unexpected value after the encrypted content");
    KBIX_TRY(walker.skip(h, 1));
  }
  if (authenticated && !outline.mac_offset) return malformed("missing authentication tag");
  return ok();
}

// SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE {
//   eContentType, eContent [0] EXPLICIT OCTET STRING OPTIONAL }, certificates [0] IMPLICIT
//   OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos SET }
Status walk_signed_data(Walker& walker, const Header& body, CmsOutline& outline) {
  if (!body.is(kClassUniversal, kTagSequence) || !body.constructed) {
    return malformed("expected a SignedData SEQUENCE");
  }
  const Frame frame = Walker::frame_of(body);
  outline.enclosing.push_back(element_of(body));
  for (const auto& [tag, what] :
       {std::pair{kTagInteger, "version"}, std::pair{kTagSet, "digest algorithms"}}) {
    KBIX_ASSIGN_OR_RETURN(auto child, required_child(walker, frame, what));
    if (!(child)->is(kClassUniversal, tag)) return malformed(std::string("expected ") + what);
    KBIX_TRY(walker.skip(*child, 1));
  }
  auto encapsulated = required_child(walker, frame, "encapsulated content");
  if (!encapsulated) return fail(std::move(encapsulated).error());
  if (!(*encapsulated)->is(kClassUniversal, kTagSequence) || !(*encapsulated)->constructed) {
    return malformed("expected the encapsulated content");
  }
  outline.enclosing.push_back(element_of(**encapsulated));
  const Frame encapsulated_frame = Walker::frame_of(**encapsulated);
  auto type = required_child(walker, encapsulated_frame, "content type");
  if (!type) return fail(std::move(type).error());
  if (!(*type)->is(kClassUniversal, kTagOid)) return malformed("expected a content type");
  KBIX_TRY(walker.skip(**type, 2));
  auto content = walker.next_child(encapsulated_frame);
  if (!content) return fail(std::move(content).error());
  if (*content) {
    if (!(*content)->is(kClassContext, 0) || !(*content)->constructed) {
      return malformed("expected [0] signed content");
    }
    const Frame explicit_frame = Walker::frame_of(**content);
    KBIX_ASSIGN_OR_RETURN(auto octets, required_child(walker, explicit_frame, "signed content"));
    if (!(octets)->is(kClassUniversal, kTagOctetString)) {
      return malformed("the signed content is not an OCTET STRING");
    }
    KBIX_ASSIGN_OR_RETURN(auto count, walker.stream_octets(*octets, 2, OctetSink()));
    KBIX_TRY(walker.expect_end(explicit_frame));
    outline.content_bytes = count;
    outline.content = element_of(**content);
    outline.content->end = walker.offset();
    KBIX_TRY(walker.expect_end(encapsulated_frame));
  }
  bool signer_infos = false;
  for (;;) {  // certificates [0], crls [1], then signerInfos SET last
    KBIX_ASSIGN_OR_RETURN(auto next, walker.next_child(frame));
    if (!next) break;
    if (signer_infos) return malformed("unexpected value after the signer infos");
    signer_infos = (next)->is(kClassUniversal, kTagSet);
    if (!signer_infos && !(next)->is(kClassContext, 0) && !(next)->is(kClassContext, 1)) {
      return malformed("unexpected value in SignedData");
    }
    KBIX_TRY(walker.skip(*next, 1));
  }
  if (!signer_infos) return malformed("missing signer infos");
  return ok();
}

void append_length(std::vector<std::uint8_t>& out, std::uint64_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  std::uint8_t bytes[8];
  int count = 0;
  for (std::uint64_t rest = length; rest > 0; rest >>= 8) {
    bytes[count++] = static_cast<std::uint8_t>(rest & 0xff);
  }
  out.push_back(static_cast<std::uint8_t>(0x80 | count));
  while (count > 0) out.push_back(bytes[--count]);
}

Status pread_append(int fd, std::uint64_t from, std::uint64_t to, std::vector<std::uint8_t>& out) {
  const std::size_t begin = out.size();
  out.resize(begin + static_cast<std::size_t>(to - from));
  std::size_t done = 0;
  while (from + done < to) {
    const ssize_t got = ::pread(fd, out.data() + begin + done, out.size() - begin - done,
                                static_cast<off_t>(from + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail("io.read", std::string("read failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(got);
  }
  return ok();
}

}  // namespace

Result<std::vector<std::uint8_t>> read_detached(int fd, const CmsOutline& outline,
                                                std::size_t max_bytes) {
  if (!outline.content) return malformed("no content to detach");
  const DerElement& cut = *outline.content;
  const std::uint64_t kept = outline.total_bytes - (cut.end - cut.start);
  if (kept > max_bytes) return malformed("too much data outside the content");
  // New headers, innermost first: each definite container shrinks by what was removed inside it.
  const auto& around = outline.enclosing;
  std::vector<std::vector<std::uint8_t>> headers(around.size());
  std::uint64_t removed = cut.end - cut.start;
  for (std::size_t i = around.size(); i-- > 0;) {
    const DerElement& element = around[i];
    KBIX_TRY(pread_append(fd, element.start, element.start + element.tag_bytes, headers[i]));
    if (element.indefinite) {
      headers[i].push_back(0x80);
      continue;
    }
    append_length(headers[i], element.end - element.content_start - removed);
    removed += (element.content_start - element.start) - headers[i].size();
  }
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(kept));
  std::uint64_t position = 0;
  for (std::size_t i = 0; i < around.size(); ++i) {
    KBIX_TRY(pread_append(fd, position, around[i].start, out));
    out.insert(out.end(), headers[i].begin(), headers[i].end());
    position = around[i].content_start;
  }
  KBIX_TRY(pread_append(fd, position, cut.start, out));
  KBIX_TRY(pread_append(fd, cut.end, outline.total_bytes, out));
  return out;
}

Status stream_content(ByteSource& source, const CmsOutline& outline, const OctetSink& sink,
                      const CmsLimits& limits) {
  if (!outline.content) return malformed("no content to stream");
  Walker walker(source, limits, outline.content->start);
  auto content = walker.header();
  if (!content) return fail(std::move(content).error());
  if (!content->is(kClassContext, 0)) return malformed("the content moved");
  if (outline.kind == CmsContentKind::signed_data) {
    const Frame frame = Walker::frame_of(*content);
    KBIX_ASSIGN_OR_RETURN(auto octets, required_child(walker, frame, "signed content"));
    if (!(octets)->is(kClassUniversal, kTagOctetString)) return malformed("the content moved");
    KBIX_TRY(walker.stream_octets(*octets, 1, sink));
    KBIX_TRY(walker.expect_end(frame));
  } else {
    KBIX_TRY(walker.stream_octets(*content, 0, sink));
  }
  if (walker.offset() != outline.content->end) return malformed("the content changed size");
  return ok();
}

Result<CmsOutline> outline_cms(ByteSource& source, const CmsLimits& limits) {
  Walker walker(source, limits);
  auto empty = walker.at_end();
  if (!empty) return fail(std::move(empty).error());
  if (*empty) return fail("envelope.not_cms", "the file is empty, not a CMS file");

  KBIX_ASSIGN_OR_RETURN(auto outer, walker.header());
  if (!outer.is(kClassUniversal, kTagSequence) || !outer.constructed) {
    return fail("envelope.not_cms", "the file does not start like a DER CMS ContentInfo");
  }
  const Frame frame = Walker::frame_of(outer);
  KBIX_ASSIGN_OR_RETURN(auto type, walker.next_child(frame));
  if (!type || !(type)->is(kClassUniversal, kTagOid) || (type)->constructed ||
      (type)->length > kMaxOidBytes) {
    return fail("envelope.not_cms", "the file does not start like a DER CMS ContentInfo");
  }
  KBIX_ASSIGN_OR_RETURN(auto oid, walker.read_bytes(static_cast<std::size_t>((type)->length)));

  CmsOutline outline;
  if (same_oid(oid, kOidAuthEnvelopedData)) {
    outline.kind = CmsContentKind::auth_enveloped;
  } else if (same_oid(oid, kOidEnvelopedData)) {
    outline.kind = CmsContentKind::enveloped;
  } else if (same_oid(oid, kOidSignedData)) {
    outline.kind = CmsContentKind::signed_data;
  }

  auto content = required_child(walker, frame, "content");
  if (!content) return fail(std::move(content).error());
  if (!(*content)->is(kClassContext, 0) || !(*content)->constructed) {
    return malformed("expected [0] content");
  }
  outline.enclosing = {element_of(outer), element_of(**content)};
  if (outline.kind != CmsContentKind::other) {
    const Frame explicit_frame = Walker::frame_of(**content);
    KBIX_ASSIGN_OR_RETURN(auto body, required_child(walker, explicit_frame, "body"));
    if (outline.kind == CmsContentKind::signed_data) {
      KBIX_TRY(walk_signed_data(walker, *body, outline));
    } else {
      KBIX_TRY(walk_envelope(walker, *body, outline));
    }
    KBIX_TRY(walker.expect_end(explicit_frame));
  } else {
    KBIX_TRY(walker.skip(**content, 1));
  }
  KBIX_TRY(walker.expect_end(frame));
  outline.total_bytes = walker.offset();
  KBIX_ASSIGN_OR_RETURN(auto done, walker.at_end());
  if (!done) return malformed("data after the end of the CMS structure");
  return outline;
}

}  // namespace kbix
