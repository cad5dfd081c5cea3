# Turns schema/vswitch.ovsschema into a C string (vsw_schema_text) so that
# vswitchd can create and upgrade its embedded database without any file
# from the install tree.  Run with -DIN=schema -DOUT=file.c.
file(READ "${IN}" text HEX)
string(LENGTH "${text}" len)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${text}")
file(WRITE "${OUT}"
  "/* Generated from vswitch.ovsschema by cmake/embed-schema.cmake. */\n"
  "#include \"vswitchd/paths.h\"\n"
  "const char vsw_schema_text[] = {${bytes} 0x00};\n")
