// Schema: a file's header must be exactly the protocol's column list for that dataset.
//
// A missing, extra, duplicated, renamed or reordered column rejects the whole file, naming the
// column (column names are not personal data). Codes: schema.empty_file, schema.missing_column,
// schema.extra_column, schema.duplicate_column, schema.column_order, schema.field_count.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kbix/core/result.hpp"
#include "kbix/domain/csv.hpp"

namespace kbix {

Status check_header(const std::vector<std::string>& header,
                    const std::vector<std::string>& expected, std::string_view source_name);

// Reads the header record and checks it; returns the column count.
Result<std::size_t> read_header(CsvReader& reader, const std::vector<std::string>& expected);

// A data record must have as many fields as the header.
Status check_field_count(const CsvReader& reader, std::size_t got, std::size_t expected);

// Reads the data records after the header into `fields` (strings or views), checks each one's
// field count and calls on_record(), whose error stops the reading and is its result.
template <class Field, class OnRecord>
Status for_each_record(CsvReader& reader, std::size_t columns, std::vector<Field>& fields,
                       OnRecord&& on_record) {
  for (;;) {
    auto more = reader.next(fields);
    if (!more) return fail(std::move(more).error());
    if (!*more) return ok();
    KBIX_TRY(check_field_count(reader, fields.size(), columns));
    KBIX_TRY(on_record());
  }
}

}  // namespace kbix
