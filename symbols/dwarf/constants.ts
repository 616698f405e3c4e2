// DWARF constants used by the reader (DWARF 5 values; older versions are a subset plus GNU forms).
// Const enums: compiled to literals, so the readers' switches on them stay plain comparisons.

export const enum DW_TAG {
  array_type = 0x01, class_type = 0x02, enumeration_type = 0x04, formal_parameter = 0x05, lexical_block = 0x0b, member = 0x0d,
  pointer_type = 0x0f, reference_type = 0x10, compile_unit = 0x11, structure_type = 0x13, subroutine_type = 0x15, typedef = 0x16,
  union_type = 0x17, unspecified_parameters = 0x18, inlined_subroutine = 0x1d, subrange_type = 0x21, base_type = 0x24, const_type = 0x26,
  enumerator = 0x28, subprogram = 0x2e, variable = 0x34, volatile_type = 0x35, restrict_type = 0x37, namespace = 0x39,
  unspecified_type = 0x3b, partial_unit = 0x3c, rvalue_reference_type = 0x42, atomic_type = 0x47, call_site = 0x48, skeleton_unit = 0x4a,
  type_unit = 0x41, module = 0x1e, interface_type = 0x38,
}

export const enum DW_AT {
  sibling = 0x01, location = 0x02, name = 0x03, byte_size = 0x0b, stmt_list = 0x10, low_pc = 0x11,
  high_pc = 0x12, language = 0x13, comp_dir = 0x1b, const_value = 0x1c, inline = 0x20, producer = 0x25,
  prototyped = 0x27, lower_bound = 0x22, count = 0x37, upper_bound = 0x2f, abstract_origin = 0x31, bit_offset = 0x0c,
  bit_size = 0x0d, data_member_location = 0x38, decl_file = 0x3a, decl_line = 0x3b, declaration = 0x3c, encoding = 0x3e,
  external = 0x3f, frame_base = 0x40, specification = 0x47, type = 0x49, ranges = 0x55, data_bit_offset = 0x6b,
  entry_pc = 0x52, call_file = 0x58, call_line = 0x59, call_column = 0x57, linkage_name = 0x6e, MIPS_linkage_name = 0x2007,
  str_offsets_base = 0x72, addr_base = 0x73, rnglists_base = 0x74, loclists_base = 0x8c, GNU_addr_base = 0x2133, GNU_ranges_base = 0x2132,
}

export const enum DW_FORM {
  addr = 0x01, block2 = 0x03, block4 = 0x04, data2 = 0x05, data4 = 0x06, data8 = 0x07,
  string = 0x08, block = 0x09, block1 = 0x0a, data1 = 0x0b, flag = 0x0c, sdata = 0x0d,
  strp = 0x0e, udata = 0x0f, ref_addr = 0x10, ref1 = 0x11, ref2 = 0x12, ref4 = 0x13,
  ref8 = 0x14, ref_udata = 0x15, indirect = 0x16, sec_offset = 0x17, exprloc = 0x18, flag_present = 0x19,
  strx = 0x1a, addrx = 0x1b, ref_sup4 = 0x1c, strp_sup = 0x1d, data16 = 0x1e, line_strp = 0x1f,
  ref_sig8 = 0x20, implicit_const = 0x21, loclistx = 0x22, rnglistx = 0x23, ref_sup8 = 0x24, strx1 = 0x25,
  strx2 = 0x26, strx3 = 0x27, strx4 = 0x28, addrx1 = 0x29, addrx2 = 0x2a, addrx3 = 0x2b,
  addrx4 = 0x2c, GNU_addr_index = 0x1f01, GNU_str_index = 0x1f02, GNU_ref_alt = 0x1f20, GNU_strp_alt = 0x1f21,
}

export const enum DW_UT {
  compile = 1, type = 2, partial = 3, skeleton = 4, split_compile = 5, split_type = 6,
}

export const DW_LANG_NAMES: Record<number, string> = {
  0x01: 'C89', 0x02: 'C', 0x04: 'C++', 0x0c: 'C99', 0x1c: 'Rust', 0x1d: 'C11', 0x1a: 'C++11', 0x21: 'C++14',
  0x2c: 'C17', 0x16: 'Go', 0x8001: 'Mips_Assembler',
};
