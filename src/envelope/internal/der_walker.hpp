// A bounded, pull-style DER/BER walker over a ByteSource: the engine under cms_reader.cpp.
// Internal to the envelope module. Every length is checked against its parent and the limits
// before use; reading is in fixed chunks, so memory does not grow with the input.
// Does NOT guarantee: any CMS semantics; callers decide which values they expect where.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kbix/envelope/cms_reader.hpp"

namespace kbix::der {

constexpr std::uint8_t kClassUniversal = 0;
constexpr std::uint8_t kClassContext = 2;
constexpr std::uint32_t kTagInteger = 2;
constexpr std::uint32_t kTagOctetString = 4;
constexpr std::uint32_t kTagOid = 6;
constexpr std::uint32_t kTagSequence = 16;
constexpr std::uint32_t kTagSet = 17;
constexpr std::size_t kMaxOidBytes = 32;
constexpr std::size_t kChunkBytes = 64 * 1024;

struct Header {
  std::uint64_t start = 0;  // file offset of the first tag byte
  std::size_t tag_bytes = 1;
  std::uint8_t tag_class = 0;
  bool constructed = false;
  std::uint32_t number = 0;
  bool indefinite = false;
  std::uint64_t length = 0;         // content length when definite
  std::uint64_t content_start = 0;  // file offset of the first content byte
  bool is(std::uint8_t cls, std::uint32_t tag) const { return tag_class == cls && number == tag; }
  bool end_of_contents() const { return tag_class == 0 && !constructed && number == 0; }
};

struct Frame {
  bool indefinite = false;
  std::uint64_t end = 0;  // definite frames only
};

inline Unexpected<Error> truncated() {
  return fail("envelope.truncated", "the CMS file ends before its structure is complete");
}
inline Unexpected<Error> malformed(const std::string& why) {
  return fail("envelope.malformed", "the CMS file is malformed: " + why);
}

class Walker {
 public:
  // `start_offset`: the file offset of the source's first byte (when reading from the middle).
  Walker(ByteSource& source, const CmsLimits& limits, std::uint64_t start_offset = 0)
      : source_(source), limits_(limits), buffer_(kChunkBytes), offset_(start_offset) {}

  std::uint64_t offset() const { return offset_; }

  Result<bool> at_end() {
    if (begin_ < end_) return false;
    KBIX_TRY(refill());
    return begin_ == end_;
  }

  Result<std::uint8_t> next_byte() {
    if (begin_ == end_) {
      KBIX_TRY(refill());
      if (begin_ == end_) return truncated();
    }
    ++offset_;
    return buffer_[begin_++];
  }

  Status skip_bytes(std::uint64_t count) {
    while (count > 0) {
      if (begin_ == end_) {
        KBIX_TRY(refill());
        if (begin_ == end_) return truncated();
      }
      const std::size_t step =
          static_cast<std::size_t>(std::min<std::uint64_t>(count, end_ - begin_));
      begin_ += step;
      offset_ += step;
      count -= step;
    }
    return ok();
  }

  Result<std::vector<std::uint8_t>> read_bytes(std::size_t count) {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      KBIX_ASSIGN_OR_RETURN(auto byte, next_byte());
      bytes.push_back(byte);
    }
    return bytes;
  }

  Result<Header> header() {
    Header h;
    h.start = offset_;
    KBIX_ASSIGN_OR_RETURN(auto first, next_byte());
    h.tag_class = static_cast<std::uint8_t>(first >> 6);
    h.constructed = (first & 0x20) != 0;
    h.number = first & 0x1fU;
    if (h.number == 0x1f) {  // high tag number: at most 4 more bytes
      h.number = 0;
      for (int i = 0;; ++i) {
        if (i == 4) return malformed("tag number too long");
        KBIX_ASSIGN_OR_RETURN(auto byte, next_byte());
        h.number = (h.number << 7) | (byte & 0x7fU);
        if ((byte & 0x80) == 0) break;
      }
    }
    h.tag_bytes = static_cast<std::size_t>(offset_ - h.start);
    KBIX_ASSIGN_OR_RETURN(auto length_byte, next_byte());
    if (length_byte == 0x80) {
      if (!h.constructed) return malformed("indefinite length on a primitive value");
      h.indefinite = true;
    } else if ((length_byte & 0x80) != 0) {
      const int count = length_byte & 0x7f;
      if (count > 8) return malformed("length field too long");
      for (int i = 0; i < count; ++i) {
        KBIX_ASSIGN_OR_RETURN(auto byte, next_byte());
        h.length = (h.length << 8) | byte;
      }
    } else {
      h.length = length_byte;
    }
    h.content_start = offset_;
    if (!h.indefinite && h.length > limits_.max_total_bytes) return malformed("length too large");
    if (h.end_of_contents() && h.length != 0) return malformed("bad end-of-contents marker");
    return h;
  }

  static Frame frame_of(const Header& h) { return Frame{h.indefinite, h.content_start + h.length}; }

  // The next child of `frame`, or nothing at its end (consuming the end-of-contents marker).
  Result<std::optional<Header>> next_child(const Frame& frame) {
    if (!frame.indefinite) {
      if (offset_ == frame.end) return std::optional<Header>{};
      if (offset_ > frame.end) return malformed("a value runs past its parent");
    }
    KBIX_ASSIGN_OR_RETURN(auto h, header());
    if (h.end_of_contents()) {
      if (frame.indefinite) return std::optional<Header>{};
      return malformed("end-of-contents inside a definite-length value");
    }
    if (!frame.indefinite && !h.indefinite && h.content_start + h.length > frame.end) {
      return malformed("a value is longer than its parent");
    }
    return std::optional<Header>(h);
  }

  // Skips a value; returns the sum of its primitive content lengths (the payload).
  Result<std::uint64_t> skip(const Header& h, int depth) {
    if (!h.constructed) {
      KBIX_TRY(skip_bytes(h.length));
      return h.length;
    }
    if (depth > limits_.max_depth) return malformed("nested too deeply");
    const Frame frame = frame_of(h);
    std::uint64_t payload = 0;
    for (;;) {
      KBIX_ASSIGN_OR_RETURN(auto child, next_child(frame));
      if (!child) break;
      KBIX_ASSIGN_OR_RETURN(auto inner, skip(*child, depth + 1));
      payload += inner;
    }
    return payload;
  }

  // Streams the octets of an OCTET STRING (or of an implicitly tagged one, like [0]
  // encryptedContent): primitive, or constructed from OCTET STRING pieces (BER). `sink` may be
  // empty to only check and count. Returns the number of octets.
  Result<std::uint64_t> stream_octets(const Header& h, int depth, const OctetSink& sink) {
    if (!h.constructed) {
      std::uint64_t left = h.length;
      while (left > 0) {
        if (begin_ == end_) {
          KBIX_TRY(refill());
          if (begin_ == end_) return truncated();
        }
        const std::size_t step =
            static_cast<std::size_t>(std::min<std::uint64_t>(left, end_ - begin_));
        if (sink) KBIX_TRY(sink(std::span<const std::uint8_t>(buffer_.data() + begin_, step)));
        begin_ += step;
        offset_ += step;
        left -= step;
      }
      return h.length;
    }
    if (depth > limits_.max_depth) return malformed("nested too deeply");
    const Frame frame = frame_of(h);
    std::uint64_t total = 0;
    for (;;) {
      KBIX_ASSIGN_OR_RETURN(auto child, next_child(frame));
      if (!child) break;
      if (!(child)->is(kClassUniversal, kTagOctetString)) {
        return malformed("a piece of an octet string is not an OCTET STRING");
      }
      KBIX_ASSIGN_OR_RETURN(auto piece, stream_octets(*child, depth + 1, sink));
      total += piece;
    }
    return total;
  }

  // Ends a frame: nothing but its end may follow.
  Status expect_end(const Frame& frame) {
    KBIX_ASSIGN_OR_RETURN(auto child, next_child(frame));
    if (child) return malformed("unexpected extra value");
    return ok();
  }

 private:
  Status refill() {
    KBIX_ASSIGN_OR_RETURN(auto got, source_.read(buffer_));
    begin_ = 0;
    end_ = got;
    if (offset_ + end_ > limits_.max_total_bytes + 1) return malformed("file too large");
    return ok();
  }

  ByteSource& source_;
  const CmsLimits& limits_;
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t offset_ = 0;
};

}  // namespace kbix::der
