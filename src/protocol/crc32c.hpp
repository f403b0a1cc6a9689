// CRC32C (Castagnoli), the checksum of Kafka record batches (magic 2). Sans-I/O.
//
// crc32c() uses carry-less multiplication folding on 512-bit registers when the CPU has
// AVX-512F and VPCLMULQDQ, else the CPU's CRC instruction (x86 SSE4.2, ARMv8 CRC32), else a
// portable slicing-by-8 table; the choice is made once, on first use. The explicit
// variants exist so tests and benchmarks can run both paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace asiokafka::protocol {

/// CRC32C of `data`, continuing from `crc` (the value returned for the preceding bytes; 0 to
/// start): crc32c(b, crc32c(a)) == crc32c(a followed by b). Standard init/final inversion,
/// so crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// The CRC32C of `a` followed by `b`, from crc32c(a), crc32c(b) and b's length, without
/// reading either (a few dozen carry-less steps). Lets a batch's CRC cover a header written
/// after its records: the records' CRC is computed once, the header's again when it changes.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::size_t length_b) noexcept;

/// The portable table implementation.
std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// True when this CPU has a CRC32C instruction that crc32c_hardware() can use.
bool crc32c_hardware_available() noexcept;

/// The instruction-based implementation; only call it when crc32c_hardware_available().
std::uint32_t crc32c_hardware(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// True when this CPU can run crc32c_clmul() (x86-64 with PCLMULQDQ and SSE4.2).
bool crc32c_clmul_available() noexcept;

/// Carry-less multiplication folding on 128-bit registers, finished with the CRC instruction;
/// only call it when crc32c_clmul_available(). Inputs under 256 bytes take the
/// crc32c_hardware() path. crc32c() does not dispatch to it: it measured slower than the
/// crc32 instruction (docs/records.md); it is kept for tests and the benchmark.
std::uint32_t crc32c_clmul(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// True when this CPU can run crc32c_wide_clmul() (x86-64 with AVX-512F and VPCLMULQDQ).
bool crc32c_wide_clmul_available() noexcept;

/// The same folding on 512-bit registers; only call it when crc32c_wide_clmul_available().
/// Inputs under 1 KiB take the crc32c_hardware() path; from 8 KiB, three crc32-instruction
/// streams over the back of the input run beside the folding (docs/records.md, "Hybrid").
std::uint32_t crc32c_wide_clmul(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// Name of the implementation crc32c() dispatches to: "vpclmul-avx512", "sse4.2", "armv8-crc" or
/// "portable".
const char* crc32c_implementation() noexcept;

}  // namespace asiokafka::protocol
