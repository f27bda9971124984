"""The static reader: what a library declares, read from its bytes; nothing of it is loaded
or run, so it reads wheels that are not installed (member by member, in place) and other Python
versions' and platforms' libraries: ELF (x86-64, aarch64), PE/COFF (``.pyd``, x86-64, arm64;
through pefile) and Mach-O (x86-64, arm64, universal). ELF and Mach-O headers are fixed layouts
unpacked with ``struct`` (pyelftools, tests' reference, costs ~10x per library as a parser).
From the export hook and the C-API functions the library imports it infers the init kind; from
its data, with relocations applied as the loader would, it reads the module definition itself
(m_size, doc, methods, slots and their values). Malformed input (truncated, foreign or hostile
files and wheels) is an ``error`` record with a one-line reason.

Also used to list the modules one library defines (PEP 489's "multiple modules in one
library").
"""

from __future__ import annotations

import functools
import os
import threading

from .inspection import record, verdicts
from .names import MULTI_PHASE, SINGLE_PHASE, SLOTS, hook_symbols

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Iterator
    from typing import IO, Any

    from .inspection import Record

__all__ = ["dynamic_symbols", "exported_modules", "exported_symbols", "imports", "static_record",
           "wheel"]


def imports(path: str, name: str) -> bool:
    """Whether the library at ``path`` imports the symbol ``name`` (False if it cannot be
    read): asked of the parsed library :func:`static_record` reads, without decoding its
    table."""
    try:
        return name in _library(path, None).imported
    except Exception:
        return False


def exported_symbols(path: str) -> list[str]:
    """Names of the functions an ELF library defines in its dynamic symbol table."""
    return dynamic_symbols(path)[0]


def _pe(path: str, data: bytes) -> Any:
    """The PE/COFF file (``.pyd``) in ``data``, parsed by pefile."""
    import pefile  # type: ignore[import-untyped]

    if isinstance(data, _Member):  # pefile parses from memory
        data = data[0:len(data)]
    pe = pefile.PE(data=data, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY[name] for name in (
        "IMAGE_DIRECTORY_ENTRY_EXPORT", "IMAGE_DIRECTORY_ENTRY_IMPORT",
        "IMAGE_DIRECTORY_ENTRY_BASERELOC")])
    return pe


def _pe_symbols(pe: Any) -> tuple[list[str], list[str]]:
    """(functions a PE library exports, functions it imports from a python DLL)."""
    exports = getattr(pe, "DIRECTORY_ENTRY_EXPORT", None)
    defined = [s.name.decode("ascii", "replace") for s in (exports.symbols if exports else ())
               if s.name]
    imported = [i.name.decode("ascii", "replace")
                for dll in getattr(pe, "DIRECTORY_ENTRY_IMPORT", ())
                if dll.dll.lower().startswith(b"python") for i in dll.imports if i.name]
    return defined, imported


def _mapped(path: str) -> bytes:
    """The library at ``path``, memory-mapped read-only: the pages it reads are loaded, not the
    whole file (a 100 MB library does not take 100 MB of memory)."""
    import mmap

    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:  # nothing to map (mmap refuses it)
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)  # type: ignore[return-value]


def _unpack(layout: str, data: bytes, offset: int) -> tuple[Any, ...]:
    """``layout`` unpacked from ``data`` (bytes, a memory map or a wheel member) at ``offset``."""
    import struct

    if offset < 0:
        raise ValueError(f"a negative offset {offset}")
    return struct.unpack(layout, data[offset:offset + struct.calcsize(layout)])


class _Member:
    """A wheel member's bytes, read where they are in the wheel without holding them: a deflated
    member is inflated as far as a read needs, and the inflater's state is kept at every
    ``BLOCK`` bytes (zlib's zran technique) so that a later read restarts from the nearest one;
    the last few inflated blocks are kept. Memory: the states (~40 KiB each) and those blocks,
    not the member. Sliced and searched (``find``) like a memory map. One reader at a time."""

    BLOCK = 1 << 20
    KEPT = 4

    def __init__(self, file: IO[bytes], start: int, compressed: int, size: int,
                 deflated: bool) -> None:
        import zlib

        self.file, self.start, self.compressed, self.size = file, start, compressed, size
        self.deflated = deflated
        # at the start of block k: (offset of its first compressed byte, the inflater there)
        self.states: list[tuple[int, Any]] = [(0, zlib.decompressobj(-15))]
        self.blocks: dict[int, bytes] = {}

    def _block(self, k: int) -> bytes:
        block = self.blocks.pop(k, None)
        if block is None:
            block = self._inflate(k) if self.deflated else self._stored(k)
            if len(self.blocks) >= self.KEPT:
                del self.blocks[next(iter(self.blocks))]
        self.blocks[k] = block  # the most recent last
        return block

    def _stored(self, k: int) -> bytes:
        self.file.seek(self.start + k * self.BLOCK)
        want = min(self.BLOCK, self.size - k * self.BLOCK)
        block = self.file.read(want)
        if len(block) != want:
            raise ValueError("the wheel ends inside the member")
        return block

    def _inflate(self, k: int) -> bytes:
        j = min(k, len(self.states) - 1)
        consumed, state = self.states[j]
        inflater, pending = state.copy(), b""
        while True:
            want = min(self.BLOCK, self.size - j * self.BLOCK)
            out = b""
            while len(out) < want and not inflater.eof:
                if not pending:
                    self.file.seek(self.start + consumed)
                    pending = self.file.read(min(1 << 16, self.compressed - consumed))
                    if not pending:
                        break
                    consumed += len(pending)
                out += inflater.decompress(pending, want - len(out))
                pending = inflater.unconsumed_tail
            if len(out) != want:
                raise ValueError("the member's data ends before its size")
            if j + 1 == len(self.states) and (j + 1) * self.BLOCK < self.size:
                self.states.append((consumed - len(pending), inflater.copy()))
            if j == k:
                return out
            j += 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, int):
            if not 0 <= key < self.size:
                raise IndexError("index out of range")
            return self._block(key // self.BLOCK)[key % self.BLOCK]
        start, stop, _ = key.indices(self.size)
        pieces = []
        while start < stop:
            k, at = divmod(start, self.BLOCK)
            piece = self._block(k)[at:at + stop - start]
            pieces.append(piece)
            start += len(piece)
        return b"".join(pieces)

    def find(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        end = self.size if end is None else min(end, self.size)
        while start < end:
            k = start // self.BLOCK
            # a block and the start of the next: a needle across the boundary is found too
            chunk: bytes = self[start:min((k + 1) * self.BLOCK + len(needle) - 1, end)]
            at = chunk.find(needle)
            if at >= 0:
                return start + at
            start = (k + 1) * self.BLOCK
        return -1


def _member(wheel: IO[bytes], info: Any) -> Any:
    """The bytes of the wheel member ``info`` (a ``ZipInfo``) as a :class:`_Member`, read in
    place (stored or deflated: what wheels use)."""
    if info.flag_bits & 1:
        raise ValueError("the member is encrypted")
    if info.compress_type not in (0, 8):  # ZIP_STORED, ZIP_DEFLATED
        raise ValueError(f"the member's compression method {info.compress_type} is not read")
    wheel.seek(info.header_offset)
    header = wheel.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ValueError("the member's local header is missing")
    name, extra = _unpack("<HH", header, 26)
    return _Member(wheel, info.header_offset + 30 + name + extra, info.compress_size,
                   info.file_size, info.compress_type == 8)


class _ELF:
    """An ELF file's headers, unpacked with ``struct`` as the gABI lays them out (32- and 64-bit,
    either byte order): its machine, section headers and loadable segments. Every table is
    checked against the file's size before it is read."""

    def __init__(self, data: bytes) -> None:
        import struct

        if data[:4] != b"\x7fELF":
            raise ImportError("not an ELF library")
        if data[4] not in (1, 2) or data[5] not in (1, 2):
            raise ValueError(f"an ELF identification of class {data[4]}, byte order {data[5]}")
        self.data, self.wide, self.little = data, data[4] == 2, data[5] == 1
        self.order = "<" if self.little else ">"
        header = "HHIQQQIHHHHHH" if self.wide else "HHIIIIIHHHHHH"
        if len(data) < 16 + struct.calcsize(self.order + header):
            raise ValueError("the file ends inside the ELF header")
        (_, self.machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         _) = _unpack(self.order + header, data, 16)
        # (type, flags, address, offset, size, link, entsize) of each section
        layout = "IIQQQQIIQQ" if self.wide else "IIIIIIIIII"
        first = self._table(shoff, 1 if shoff else 0, layout, shentsize)
        if first and shnum == 0:  # more sections than e_shnum holds: section 0 has the count
            shnum = first[0][5]
        self.sections = [(kind, flags, addr, offset, size, link, entsize)
                         for _, kind, flags, addr, offset, size, link, _, _, entsize
                         in self._table(shoff, shnum if shoff else 0, layout, shentsize)]
        if phnum == 0xFFFF and first:  # PN_XNUM: section 0's sh_info has the count
            phnum = first[0][7]
        # PT_LOAD segments: (address, size in the file, size in memory, file offset)
        if self.wide:  # Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz, memsz, align
            self.segments = [(e[3], e[5], e[6], e[2]) for e in
                             self._table(phoff, phnum, "IIQQQQQQ", phentsize) if e[0] == 1]
        else:  # Elf32_Phdr: type, offset, vaddr, paddr, filesz, memsz, flags, align
            self.segments = [(e[2], e[4], e[5], e[1]) for e in
                             self._table(phoff, phnum, "IIIIIIII", phentsize) if e[0] == 1]

    def _table(self, offset: int, count: int, layout: str, entsize: int) -> list[Any]:
        """``count`` entries of ``layout``, ``entsize`` bytes apart, at ``offset``."""
        import struct

        fmt = struct.Struct(self.order + layout)
        if count and entsize < fmt.size:
            raise ValueError(f"table entries of {entsize} bytes, fewer than {fmt.size}")
        if offset + count * entsize > len(self.data):
            raise ValueError(f"a table at {offset:#x} runs past the end of the file")
        table = self.data[offset:offset + count * entsize]
        if entsize == fmt.size:
            return list(fmt.iter_unpack(table))
        return [fmt.unpack_from(table, i * entsize) for i in range(count)]

    def section_data(self, index: int) -> bytes:
        """The bytes of section ``index`` (none for SHT_NOBITS)."""
        if not 0 <= index < len(self.sections):
            raise ValueError(f"section {index} does not exist")
        kind, _, _, offset, size, _, _ = self.sections[index]
        if kind == 8:  # SHT_NOBITS: only in memory
            return b""
        if offset + size > len(self.data):
            raise ValueError(f"section {index} runs past the end of the file")
        return self.data[offset:offset + size]

    def entries(self, index: int, layout: str) -> list[Any]:
        """The entries of the table in section ``index``."""
        import struct

        _, _, _, offset, size, _, entsize = self.sections[index]
        entsize = entsize or struct.calcsize(self.order + layout)
        return self._table(offset, size // entsize, layout, entsize)


def _elf(path: str, data: bytes | None) -> _ELF:
    """The ELF file at ``path`` (or its bytes ``data``)."""
    if data is None:
        data = _mapped(path)
    try:
        return _ELF(data)
    except ImportError:
        raise ImportError(f"{path}: not an ELF library", path=path) from None


def dynamic_symbols(path: str, data: bytes | None = None) -> tuple[list[str], list[str]]:
    """(functions the ELF library defines, symbols it imports) from its dynamic symbol table.

    ``data``: the file's bytes, when they do not come from ``path`` (a wheel member).
    """
    return _symbols(_elf(path, data))


_SHT_RELA, _SHT_DYNSYM, _SHT_REL, _SHT_RELR = 4, 11, 9, 19
# Elf64_Sym: name, info, other, shndx, value, size; Elf32_Sym: name, value, size, info, other, shndx
_SYM64, _SYM32 = "IBBHQQ", "IIIBBH"


class _Names:
    """The names of an ELF symbol table's defined functions, or of its imports, asked one at a
    time (``name in``) without decoding the table: the places of ``name`` in the string table
    (a name may be the tail of a longer one) and whether such a symbol is named at one."""

    def __init__(self, strings: bytes, offsets: list[int]) -> None:
        self.strings, self.order, self.offsets = strings, offsets, set(offsets)

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, name: object) -> bool:
        needle = str(name).encode("utf-8") + b"\0"
        at = self.strings.find(needle)
        while at >= 0 and at not in self.offsets:
            at = self.strings.find(needle, at + 1)
        return at >= 0

    def __iter__(self) -> Iterator[str]:
        strings = self.strings
        for offset in self.order:  # the table's order
            yield strings[offset:strings.index(b"\0", offset)].decode("utf-8", "replace")


def _names(elf: _ELF) -> tuple[_Names, _Names]:
    """(defined functions, imported symbols) of an ELF library's dynamic symbol table."""
    table = next((i for i, s in enumerate(elf.sections) if s[0] == _SHT_DYNSYM), None)
    if table is None:
        return _Names(b"", []), _Names(b"", [])
    strings = elf.section_data(elf.sections[table][5])
    if elf.wide:
        entries = [(e[0], e[1], e[3]) for e in elf.entries(table, _SYM64) if e[0]]
    else:
        entries = [(e[0], e[3], e[5]) for e in elf.entries(table, _SYM32) if e[0]]
    if any(name >= len(strings) for name, _, _ in entries):
        raise ValueError("a symbol's name is outside its string table")
    # SHN_UNDEF: resolved against the interpreter or other libraries; STT_FUNC: a function
    return (_Names(strings, [name for name, info, shndx in entries if shndx and info & 0xF == 2]),
            _Names(strings, [name for name, _, shndx in entries if not shndx]))


def _symbols(elf: _ELF) -> tuple[list[str], list[str]]:
    """(defined functions, imported symbols) of an ELF library's dynamic symbol table."""
    defined, imported = _names(elf)
    return list(defined), list(imported)


# --- module definitions, read from the data ---------------------------------------------------
#
# A PyInit_* hook returns a static PyModuleDef (multi-phase: through PyModuleDef_Init; single-
# phase: to PyModule_Create). Finding it takes no disassembly: its m_name points at the module's
# name, and in a shared library every pointer in the data is a relocation (or a word the
# relocation's implicit addend is). So: the name's addresses, the pointer slots that hold one,
# and among the structures around them, the one whose header is a PyModuleDef_HEAD_INIT's
# (ob_type, m_init, m_index, m_copy all zero). Its slot array, methods and doc follow from its
# pointers, as the dynamic loader would relocate them.

_RELATIVE = {62: {8}, 183: {1027}}  # EM_X86_64, EM_AARCH64: R_*_RELATIVE: base + addend
_ABSOLUTE = {62: {1}, 183: {257}}  # R_X86_64_64, R_AARCH64_ABS64: S + A
_MAX_SLOTS = 64  # more is not a slot array
_ELF_MACHINES = {62: "x86-64", 183: "aarch64", 3: "i386", 40: "arm", 20: "ppc", 21: "ppc64",
                 22: "s390", 8: "mips", 243: "riscv", 258: "loongarch"}  # e_machine


class _Image:
    """A library's loadable memory, as the dynamic loader lays it out and relocates its pointer
    words (load address 0), read lazily from the file's bytes: ``segments`` are (address, size
    in the file, size in memory, file offset), ``pointers`` the relocated words' values."""

    def __init__(self, data: bytes, little: bool,
                 segments: list[tuple[int, int, int, int]]) -> None:
        self.data = data  # bytes, a memory map or a wheel member: read by slicing, never by
        # seeking (a parsed library's image serves every thread that reads it)
        self.little = little
        self.segments = segments
        self.pointers: dict[int, int] = {}  # address of a relocated word -> its value

    def _offset(self, address: int, size: int) -> int | None:
        """The file offset of ``size`` bytes at ``address``; None if beyond the file (bss)."""
        for vaddr, filesz, memsz, offset in self.segments:
            if vaddr <= address and address + size <= vaddr + memsz:
                return offset + address - vaddr if address + size <= vaddr + filesz else None
        raise ValueError(f"address {address:#x} is outside the library's memory")

    def read(self, address: int, size: int) -> bytes:
        offset = self._offset(address, size)
        if offset is None:
            return bytes(size)
        data: bytes = self.data[offset:offset + size]
        if len(data) != size:
            raise ValueError(f"the file ends inside the memory at {address:#x}")
        return data

    def pointer_slots(self, targets: set[int]) -> list[tuple[int, int]]:
        """(address, value) of the relocated words whose value is one of ``targets``."""
        return [(where, value) for where, value in self.pointers.items() if value in targets]

    def _raw_word(self, address: int) -> int:
        return int.from_bytes(self.read(address, 8), "little" if self.little else "big")

    def word(self, address: int) -> int:
        """The pointer-sized word at ``address``, relocated as the loader would."""
        value = self.pointers.get(address)
        return value if value is not None else self._raw_word(address)

    def signed(self, address: int) -> int:
        value = self._raw_word(address)
        return value - (1 << 64) if value >> 63 else value

    def c_string(self, address: int, limit: int = 4096) -> str | None:
        if not address:
            return None
        data = b""
        while b"\0" not in data and len(data) < limit:
            data += self.read(address + len(data), 16)
        return data.partition(b"\0")[0].decode("utf-8", "replace")

    @functools.cached_property
    def generator(self) -> str | None:
        """The binding generator whose modules build their definition at run time, if its
        name is in the library's loaded data (pybind11, nanobind)."""
        return next((name for name in ("pybind11", "nanobind") if self.contains(name.encode())),
                    None)

    def contains(self, text: bytes) -> bool:
        """Whether ``text`` is anywhere in the loaded segments."""
        return bool(self.strings(text, terminated=False, first=True))

    def strings(self, text: bytes, terminated: bool = True, first: bool = False) -> list[int]:
        """Addresses where the NUL-terminated ``text`` is stored in the file's loaded bytes."""
        needle, found = text + b"\0" if terminated else text, []
        for vaddr, filesz, _, offset in self.segments:  # searched in place
            at = self.data.find(needle, offset, offset + filesz)
            while at >= 0:  # a string's tail counts too: linkers merge "x_spam" and "spam"
                found.append(vaddr + at - offset)
                if first:
                    return found
                at = self.data.find(needle, at + 1, offset + filesz)
        return found


def _elf_image(elf: _ELF) -> _Image:
    """An ELF library's image: its PT_LOAD segments, RELA/REL/RELR relocations applied."""
    machine = elf.machine
    if machine not in _RELATIVE or not elf.wide:
        raise ValueError(f"the ELF machine {_ELF_MACHINES.get(machine, machine)} "
                         f"({64 if elf.wide else 32}-bit) is not read")
    self = _Image(elf.data, elf.little, elf.segments)
    symbol_values: dict[int, list[tuple[int, int]]] = {}  # symbol table -> (shndx, value)
    for index, (kind, _, _, _, _, link, _) in enumerate(elf.sections):
        if kind == _SHT_RELR:  # addresses, and bitmaps of the 63 words after the last one
            where = 0
            for (entry,) in elf.entries(index, "Q"):
                if not entry & 1:
                    self.pointers[entry] = self._raw_word(entry)
                    where = entry + 8
                    continue
                for bit in range(63):
                    if entry >> (bit + 1) & 1:
                        address = where + 8 * bit
                        self.pointers[address] = self._raw_word(address)
                where += 8 * 63
        elif kind in (_SHT_RELA, _SHT_REL):
            rela = kind == _SHT_RELA
            if link and link not in symbol_values:
                symbol_values[link] = [(shndx, value) for _, _, _, shndx, value, _ in
                                       elf.entries(link, _SYM64)]
            symbols = symbol_values.get(link, [])
            for entry in elf.entries(index, "QQq" if rela else "QQ"):
                where, info = entry[0], entry[1]
                addend = entry[2] if rela else self._raw_word(where)
                reloc = info & 0xFFFFFFFF
                if reloc in _RELATIVE[machine]:
                    self.pointers[where] = addend
                elif reloc in _ABSOLUTE[machine] and info >> 32 < len(symbols):
                    shndx, value = symbols[info >> 32]
                    if shndx:  # defined here
                        self.pointers[where] = value + addend
    return self


class _MachOImage(_Image):
    """A Mach-O slice's image. Its pointer words are rebased by dyld: with rebase opcodes the
    file holds the target's address; with chained fix-ups (DYLD_CHAINED_PTR_64 and _64_OFFSET,
    what arm64 and x86-64 bundles use) a rebase word holds it in its low 36 bits (plus 8 high
    bits at 36), the rest being the chain's link, and a bind (bit 63) is an import. Decoding each
    word on its own is what dyld does to it; which words are pointers follows from the
    definition's layout, checked by its header."""

    def __init__(self, data: bytes, segments: list[tuple[int, int, int, int]],
                 data_segments: list[tuple[int, int, int, int]]) -> None:
        super().__init__(data, True, segments)
        self.data_segments = data_segments

    @staticmethod
    def _decode(raw: int) -> int:
        if raw >> 63:  # a bind: an imported symbol
            return 0
        return (raw & 0xFFFFFFFFF) | ((raw >> 36) & 0xFF) << 56

    def word(self, address: int) -> int:
        return self._decode(self._raw_word(address))

    def pointer_slots(self, targets: set[int]) -> list[tuple[int, int]]:
        found = []
        for vaddr, filesz, _, offset in self.data_segments:
            words = memoryview(self.data[offset:offset + filesz - filesz % 8]).cast("Q")
            for i, raw in enumerate(words):
                if raw and self._decode(raw) in targets:
                    found.append((vaddr + 8 * i, self._decode(raw)))
        return found


_MACHO_CPUS = {0x01000007: "x86-64", 0x0100000C: "arm64"}
_LC_SEGMENT_64, _LC_SYMTAB = 0x19, 0x2


def _macho_slices(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each 64-bit slice of a Mach-O file, thin or universal (fat)."""
    import struct

    magic = data[:4]
    if magic == b"\xcf\xfa\xed\xfe":  # MH_MAGIC_64, little-endian
        return [(0, len(data))]
    if magic in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):  # FAT_MAGIC(_64), big-endian
        wide = magic[3] == 0xBF
        (count,) = _unpack(">I", data, 4)
        entry = ">iiQQII" if wide else ">iiIII"
        size = struct.calcsize(entry)
        if count > 64:
            raise ValueError(f"a universal file claiming {count} slices")
        return [_unpack(entry, data, 8 + i * size)[2:4] for i in range(count)]
    raise ImportError("not a Mach-O library")


def _macho(data: bytes, offset: int) -> tuple[_MachOImage, list[str], list[str], str]:
    """(image, defined functions, imported symbols, machine) of the slice at ``offset``."""
    import struct

    magic, cpu, _, _, ncmds, _, _, _ = _unpack("<IiiIIIII", data, offset)
    if magic != 0xFEEDFACF:
        raise ValueError("a universal slice that is not a 64-bit Mach-O library")
    machine = _MACHO_CPUS.get(cpu)
    if machine is None:
        raise ValueError(f"the Mach-O CPU type {cpu:#x} is not read")
    segments, data_segments = [], []
    defined: list[str] = []
    imported: list[str] = []
    at = offset + 32
    for _ in range(min(ncmds, 4096)):
        cmd, size = _unpack("<II", data, at)
        if size < 8:
            raise ValueError("a load command of no size")
        if cmd == _LC_SEGMENT_64:
            name, vmaddr, vmsize, fileoff, filesize = _unpack("<16sQQQQ", data, at + 8)
            segment = (vmaddr, filesize, vmsize, offset + fileoff)
            segments.append(segment)
            if name.rstrip(b"\0").startswith(b"__DATA"):
                data_segments.append(segment)
        elif cmd == _LC_SYMTAB:
            symoff, nsyms, stroff, _ = _unpack("<IIII", data, at + 8)
            table = data[offset + symoff:offset + symoff + 16 * min(nsyms, 1 << 22)]
            for i in range(len(table) // 16):
                strx, ntype, _, _, _ = struct.unpack_from("<IBBHQ", table, 16 * i)
                end = data.find(b"\0", offset + stroff + strx)
                if end < 0:
                    raise ValueError("a symbol name runs past the end of the file")
                symbol = data[offset + stroff + strx:end].decode("utf-8", "replace")
                symbol = symbol[1:] if symbol.startswith("_") else symbol  # C names get a _
                if ntype & 0xE0:  # a debugging entry
                    continue
                if ntype & 0x0E == 0 and ntype & 0x01:  # N_UNDF, N_EXT: an import
                    imported.append(symbol)
                elif ntype & 0x0E == 0x0E and ntype & 0x01:  # N_SECT, N_EXT: exported
                    defined.append(symbol)
        at += size
    image = _MachOImage(data, segments, data_segments)
    return image, defined, imported, machine


_IMAGE_REL_BASED_DIR64 = 10
_PE_MACHINES = {0x8664: "x86-64", 0xAA64: "aarch64"}


def _pe_image(pe: Any) -> _Image:
    """A PE/COFF library's image (a ``.pyd``): its sections at their RVAs, the words its base
    relocations (DIR64) mark as pointers holding RVAs (the file holds preferred-base VAs)."""

    machine = pe.FILE_HEADER.Machine
    if machine not in _PE_MACHINES:
        raise ValueError(f"the PE machine {machine:#x} is not read")
    base = pe.OPTIONAL_HEADER.ImageBase
    self = _Image(pe.__data__, True,
                  [(sec.VirtualAddress, sec.SizeOfRawData, max(sec.Misc_VirtualSize,
                    sec.SizeOfRawData), sec.PointerToRawData) for sec in pe.sections])
    for block in getattr(pe, "DIRECTORY_ENTRY_BASERELOC", ()):
        for entry in block.entries:
            if entry.type == _IMAGE_REL_BASED_DIR64:
                self.pointers[entry.rva] = self._raw_word(entry.rva) - base
    return self


def _name_addresses(image: _Image, names: list[str]) -> set[int]:
    """Where the library's data stores one of ``names`` (what an m_name or Py_mod_name points
    at)."""
    return {addr for n in names for addr in image.strings(n.encode("utf-8"))}


def _find_moduledef(image: _Image, names: list[str], head: int) -> int | None:
    """The address of the PyModuleDef whose m_name is one of ``names``, or None."""
    targets = _name_addresses(image, names)
    found = []
    for where, value in image.pointer_slots(targets):
        if value in targets:
            base = where - head - 24  # m_name follows the header and m_init, m_index, m_copy
            try:
                if (base >= 0 and image.word(base + head - 8) == 0  # ob_type
                        and all(image.word(base + head + off) == 0 for off in (0, 8, 16))):
                    found.append(base)
            except ValueError:
                continue
    return found[0] if len(set(found)) == 1 else None


def _method_names(image: _Image, address: int) -> list[str | None]:
    """The names of a NULL-terminated PyMethodDef array (name, meth, flags padded, doc: 32
    bytes an entry)."""
    names: list[str | None] = []
    while address and len(names) < 4096 and (name := image.word(address)):
        names.append(image.c_string(name))
        address += 32
    return names


def _read_pyslots(image: _Image, names: list[str]) -> dict[str, object]:
    """What a 3.15 PySlot array (PEP 793: 16-byte entries, u16 id, u16 flags, u32 reserved and
    an 8-byte value) declares, found as a definition is: by its Py_mod_name slot's pointer to
    the module's name; the array runs from there back to the first entry that is no slot and
    on to its Py_slot_end."""
    from .names import _SLOTS, SLOT_IDS

    targets = _name_addresses(image, names)

    def slot_id(entry: int) -> int:
        return int.from_bytes(image.read(entry, 2), "little" if image.little else "big")

    starts = set()
    for where, _ in image.pointer_slots(targets):
        entry = where - 8
        if entry >= 0 and slot_id(entry) == SLOT_IDS["Py_mod_name"]:
            start = entry
            for _ in range(_MAX_SLOTS):
                try:
                    before = slot_id(start - 16)
                except ValueError:
                    break
                if before not in _SLOTS:
                    break
                start -= 16
            starts.add(start)
    if len(starts) != 1:
        return {"unknown": "its slot array is not in the library's data"}
    slots: list[tuple[int, int]] = []
    entry = starts.pop()
    while len(slots) < _MAX_SLOTS and (i := slot_id(entry)) != 0:
        slots.append((i, image.word(entry + 8)))
        entry += 16
    values = {i: v for i, v in reversed(slots)}
    methods = _method_names(image, values.get(SLOT_IDS["Py_mod_methods"], 0))
    return {"m_name": image.c_string(values.get(SLOT_IDS["Py_mod_name"], 0)),
            "doc": image.c_string(values.get(SLOT_IDS["Py_mod_doc"], 0)),
            "m_size": values.get(SLOT_IDS["Py_mod_state_size"], 0), "methods": methods,
            "slots": slots, "has_slots": True,
            **{k: SLOT_IDS[f"Py_mod_state_{k}"] in values for k in ("traverse", "clear", "free")}}


def read_definition(image: _Image, module: str, free_threaded: bool,
                    pyslots: bool = False) -> dict[str, object]:
    """What the PyModuleDef of ``module`` in a library's image declares (a 3.15 PySlot array
    with ``pyslots``): m_name, m_size, doc, methods, slots (id, value), traverse/clear/free; or
    ``{"unknown": reason}``. ``free_threaded``: the library is for a free-threaded build (a
    bigger object header)."""
    head = 32 if free_threaded else 16  # PyObject: ob_refcnt, ob_type (+ ob_tid, ... on t)
    names = [module, module.rpartition(".")[2]] if "." in module else [module]
    return _read_pyslots(image, names) if pyslots else _read_moduledef(image, names, head)


def _read_moduledef(image: _Image, names: list[str], head: int) -> dict[str, object]:
    """What the PyModuleDef whose m_name is one of ``names`` declares (see read_definition)."""
    base = _find_moduledef(image, names, head)
    if base is None:
        return {"unknown": "its module definition is not in the library's data (it is built at "
                           "run time, or its name is not stored as it is imported)"}
    at = base + head + 24
    m_name, m_doc, m_size, m_methods, m_slots, traverse, clear, free = (
        image.word(at), image.word(at + 8), image.signed(at + 16), image.word(at + 24),
        image.word(at + 32), image.word(at + 40), image.word(at + 48), image.word(at + 56))
    methods = _method_names(image, m_methods)
    slots: list[tuple[int, int]] = []
    address = m_slots
    while address and len(slots) < _MAX_SLOTS:
        slot_id = int.from_bytes(image.read(address, 4), "little" if image.little else "big")
        if slot_id == 0:
            break
        slots.append((slot_id, image.word(address + 8)))
        address += 16
    else:
        if address and len(slots) >= _MAX_SLOTS:
            return {"unknown": f"its slot array does not end within {_MAX_SLOTS} slots"}
    return {"m_name": image.c_string(m_name), "doc": image.c_string(m_doc), "m_size": m_size,
            "methods": methods, "slots": slots, "traverse": bool(traverse),
            "clear": bool(clear), "free": bool(free), "has_slots": bool(m_slots)}


def exported_modules(path: str) -> list[str]:
    """The module names whose export hooks (PyInit_/PyInitU_/PyModExport_...) ``path`` defines."""
    from .names import module_of_hook

    found: dict[str, None] = {}
    for symbol in exported_symbols(path):
        name = module_of_hook(symbol)
        if name:
            found[name] = None
    return list(found)


def _free_threaded_name(path: str) -> bool:
    """A library named for a free-threaded build: its suffix's ABI tag ends in ``t``
    (``.cpython-313t-x86_64-linux-gnu.so``, ``.cp313t-win_amd64.pyd``)."""
    parts = os.path.basename(path).split(".")
    tag = parts[-2] if len(parts) >= 3 else ""
    abi = tag.split("-")[1] if tag.startswith("cpython-") and "-" in tag else tag.split("-")[0]
    return _free_threaded_abi(abi)


def _free_threaded_abi(tag: str) -> bool:
    """An ABI tag of a free-threaded build: ``313t``, ``cp313t``, ``abi3t`` (PEP 803)."""
    return tag == "abi3t" or (tag.endswith("t") and tag[:-1].removeprefix("cp").isdigit())


class _Malformed(Exception):
    """A library whose headers or symbols cannot be parsed: the reason, one line."""


class _Library:
    """A library's headers and symbols, parsed once, and its images (one per Mach-O slice),
    built when a definition is first read: the modules one library defines (several, PEP 489;
    or one file under several names) read it once."""

    def __init__(self, path: str, data: bytes) -> None:
        self.data = data
        self.kind = ("PE" if data[:2] == b"MZ" else "ELF" if data[:4] == b"\x7fELF"
                     else "Mach-O")
        self._images: list[_Image] | None = None
        self._error: Exception | None = None
        defined: Collection[str]
        imported: Collection[str]
        try:
            if self.kind == "Mach-O":
                slices = [_macho(data, offset) for offset, _ in _macho_slices(data)]
                if not slices:
                    raise ValueError("a universal file without slices")
                _, defined, imported, _ = slices[0]
                machines = [machine for *_, machine in slices]
                self.format = (f"Mach-O {machines[0]}" if len(slices) == 1
                               else f"Mach-O universal ({', '.join(machines)})")
                self._images = [image for image, *_ in slices]
            elif self.kind == "PE":
                self.parsed: Any = _pe(path, data)
                defined, imported = _pe_symbols(self.parsed)
                self.format = f"PE {_PE_MACHINES.get(self.parsed.FILE_HEADER.Machine, '?')}"
            else:
                self.parsed = _elf(path, data)
                defined, imported = _names(self.parsed)
                machine = self.parsed.machine
                self.format = f"ELF {_ELF_MACHINES.get(machine, f'machine {machine}')}"
        except (OSError, ImportError):
            raise
        except Exception as exc:  # any failure to parse hostile bytes is a malformed file
            raise _Malformed(f"malformed {self.kind} file ({type(exc).__name__}: {exc})"
                             .replace("\n", " ")) from None
        self.defined: Collection[str] = (
            defined if isinstance(defined, _Names) else set(defined))
        self.imported: Collection[str] = (
            imported if isinstance(imported, _Names) else set(imported))

    def images(self) -> list[_Image]:
        """The library's images (relocations applied), made once; raises what making them
        raised, for every module."""
        if self._error is not None:
            raise self._error
        if self._images is None:
            try:
                self._images = [_pe_image(self.parsed) if self.kind == "PE"
                                else _elf_image(self.parsed)]
            except Exception as exc:
                self._error = exc
                raise
        return self._images


_LIBRARIES: dict[tuple[int, ...], _Library] = {}  # by file identity; a few: each maps a file
_LIBRARIES_LOCK = threading.Lock()  # readers in several threads share it


def _library(path: str, data: bytes | None) -> _Library:
    """The parsed library at ``path`` (its bytes ``data``, for a wheel member: not kept)."""
    if data is not None:
        return _Library(path, data)
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _LIBRARIES_LOCK:
        library = _LIBRARIES.get(key)
    if library is None:
        library = _Library(path, _mapped(path))  # outside the lock: two threads may both parse
        with _LIBRARIES_LOCK:
            if len(_LIBRARIES) >= 8:  # a memory map holds a file descriptor: keep a few
                del _LIBRARIES[next(iter(_LIBRARIES))]
            _LIBRARIES[key] = library
    return library


def static_record(module: str, path: str, data: bytes | None = None,
                  version: tuple[int, int] | None = None,
                  free_threaded: bool | None = None) -> Record:
    """What a library declares, read from its bytes (``data``, for a wheel member) without
    loading it: its export hook and, from its data, its module definition and slots.
    ``version``: the CPython the library is for (slot names; default: this one);
    ``free_threaded``: built for a free-threaded CPython (default: from the file's name)."""
    import sys

    try:
        library = _library(path, data)
    except (OSError, ImportError, _Malformed) as exc:
        return record(module, path, "error", f"cannot read its symbols: {exc}", inferred=True)
    r = record(module, path, inferred=True)
    r["format"] = library.format
    defined, imported = library.defined, library.imported
    (export, _), (init, _) = hook_symbols(module, export=True)
    if export in defined:
        r.update({"kind": SLOTS, "hook": export})
    elif init in defined:
        r["hook"] = init
        multi, single = "PyModuleDef_Init" in imported, "PyModule_Create2" in imported
        if multi != single:
            r["kind"] = MULTI_PHASE if multi else SINGLE_PHASE
    else:
        r.update({"status": "error", "reason": f"defines no export hook for {module}"})
        return r
    sets_gil = "PyUnstable_Module_SetGIL" in imported
    found: dict[str, object]
    if free_threaded is None:
        free_threaded = _free_threaded_name(path)
    try:
        images = library.images()
        each = [read_definition(image, module, free_threaded, r["kind"] == SLOTS)
                for image in images]
        # every slice of a universal file must declare the same
        found = each[0] if len({_declared(f) for f in each}) == 1 else {
            "unknown": "the slices of this universal library declare differently"}
        if "unknown" not in found and not found["slots"]:
            # no slots in the data where a generator makes them at run time (pybind11 3 fills
            # a static array, nanobind allocates one); elsewhere an empty array is just that.
            # Asked only here: it searches the library's whole loaded data.
            generator = images[0].generator
            if generator:
                found = {"unknown": f"its slots are built at run time ({generator})"}
    except Exception as exc:  # malformed data: what the symbols say still stands
        found = {"unknown": f"its data cannot be read ({type(exc).__name__}: {exc})"
                 .replace("\n", " ")}
    if "unknown" not in found:
        _fill(r, found, version or (sys.version_info[0], sys.version_info[1]))
        if found["has_slots"] and r["kind"] != SLOTS:  # PyModule_Create refuses slots
            r["kind"] = MULTI_PHASE
    if r["kind"] is None:
        r["reason"] = ("the library imports both PyModuleDef_Init and PyModule_Create2: its "
                       "modules may be of both kinds" if "PyModuleDef_Init" in imported
                       else "its symbols do not tell its init kind")
        return r
    main, sub, ft, reasons = verdicts(r["kind"], r["multiple_interpreters"], r["gil"], sets_gil)
    if "unknown" in found and r["kind"] != SINGLE_PHASE:
        sub = ft = None
        reasons = [f"unknown: {found['unknown']}"]
    how = ("read from its data" if "unknown" not in found
           else "inferred from the C-API functions it imports")
    r.update({"runnable_as_main": main, "subinterpreters": sub, "free_threading": ft,
              "reason": "; ".join([how, *reasons])})
    return r


def _declared(found: dict[str, object]) -> str:
    """What a definition read from one slice declares, as a comparable string: pointers (a
    create or exec function's address) differ between a universal file's slices, the rest may
    not."""
    slots: list[tuple[int, int]] = found.get("slots", [])  # type: ignore[assignment]
    values = [(i, v if i in _VALUE_SLOTS else None) for i, v in slots]
    rest = {k: v for k, v in found.items() if k != "slots"}
    return repr((sorted(rest.items()), values))


# slots whose value is a number, not a pointer: multiple interpreters and GIL, both numberings
_VALUE_SLOTS = {3, 4, 86, 87}


def _fill(r: Record, found: dict[str, object], version: tuple[int, int]) -> None:
    """The record's fields from a definition read from the data."""
    from .names import slot_name

    slots: list[tuple[int, int]] = found["slots"]  # type: ignore[assignment]
    values = {slot_name(i, version): v for i, v in reversed(slots)}  # the first of each
    methods: list[str | None] = found["methods"]  # type: ignore[assignment]
    r.update({
        "m_size": found["m_size"], "doc": found["doc"],  # type: ignore[typeddict-item]
        "methods": [{"name": m or "", "flags": 0, "doc": None} for m in methods],
        "slots": [{"id": i, "name": slot_name(i, version), "value": v} for i, v in slots],
        "create": "Py_mod_create" in values,
        "exec_slots": sum(1 for i, _ in slots if slot_name(i, version) == "Py_mod_exec"),
        "multiple_interpreters": values.get("Py_mod_multiple_interpreters"),
        "gil": values.get("Py_mod_gil"),
        "traverse": found["traverse"], "clear": found["clear"],  # type: ignore[typeddict-item]
        "free": found["free"],  # type: ignore[typeddict-item]
    })


_MAX_MEMBER = 1 << 30  # a wheel member claiming more is not read (a zip bomb, or no library)


def _tags(path: str) -> tuple[list[str], list[str]]:
    """A wheel file name's python and ABI tags (none where the name has no tags)."""
    parts = os.path.basename(path).removesuffix(".whl").split("-")
    return (parts[-3].split("."), parts[-2].split(".")) if len(parts) >= 5 else ([], [])


def wheel_tags(path: str) -> tuple[tuple[int, int] | None, bool]:
    """(the CPython version a wheel is for, whether for a free-threaded build) from its file
    name's tags (``NAME-VER[-BUILD]-PYTHON-ABI-PLATFORM.whl``; several joined by ``.``):
    ``cp313``-``cp313t`` or ``abi3t`` is free-threaded; None where the tags name no CPython."""
    python_tags, abi_tags = _tags(path)
    free_threaded = any(_free_threaded_abi(t) for t in abi_tags)
    versions = [(int(t[2]), int(t[3:])) for t in python_tags
                if t.startswith("cp") and t[2:].isdigit() and len(t) >= 4]
    return (min(versions) if versions else None), free_threaded


def wheel(path: str) -> list[Record]:
    """Static records of every extension module in a wheel file (any Python version's)."""
    import zipfile

    name, _, rest = os.path.basename(path).partition("-")
    version = rest.partition("-")[0]
    python, free_threaded = wheel_tags(path)
    abi3t = "abi3t" in _tags(path)[1]
    records = []
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        r = record(name, path, "error", f"cannot read the wheel: {exc}", inferred=True)
        r.update({"location": path, "distribution": name, "version": version})
        return [r]
    with z, open(path, "rb") as f:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            member = info.filename
            base = member.rsplit("/", 1)[-1]
            if not (base.endswith((".so", ".pyd")) and ".data/" not in member):
                continue
            stem = base.split(".", 1)[0]
            package = member.split("/")[:-1]
            module = ".".join([*package, stem])
            if not all(p.isidentifier() for p in module.split(".")):
                continue
            where = f"{path}!{member}"
            if info.file_size > _MAX_MEMBER:
                r = record(module, where, "error", f"the wheel says it holds {info.file_size} "
                           f"bytes, more than extrun reads ({_MAX_MEMBER})", inferred=True)
            else:
                try:
                    r = static_record(module, where, _member(f, info), python, free_threaded)
                    if free_threaded and r["free_threading"] is False:
                        r["reason"] = ("enables the GIL when imported: a free-threaded wheel's "
                                       "module that does not declare it can run without it; "
                                       + r["reason"])
                    if abi3t and r["status"] == "ok" and r["kind"] != SLOTS:
                        r["reason"] = ("not what abi3t asks: PEP 803 makes PyObject opaque, so "
                                       "an abi3t module is defined with PEP 793's "
                                       "PyModExport_* slots, not a PyModuleDef; "
                                       + r["reason"])
                except Exception as exc:  # a corrupt member of a hostile wheel
                    r = record(module, where, "error", "cannot read it from the wheel: "
                               f"{type(exc).__name__}: {exc}", inferred=True)
            r.update({"location": path, "distribution": name, "version": version})
            records.append(r)
    return records
