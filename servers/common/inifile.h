/*
 * inifile - the original's CHIP.INI calls over the file format of
 * config.h: read one value, set or delete one. BIOS_Set_Ini_String* rewrite
 * the file atomically (a temporary file beside it, then rename), keeping
 * every other line, comment and line ending as it was. All four are
 * thread-safe (one lock for every file).
 *
 * Limits of the original: section and item at most 40 characters, text at
 * most 128. Names compare case-insensitively, as the INI parser's do.
 */
#ifndef CHIPD_INIFILE_H
#define CHIPD_INIFILE_H

#define INI_SECTION_MAX 40
#define INI_ITEM_MAX 40
#define INI_TEXT_MAX 128

/* BIOS_Get_Ini_String_Ext - the value of item in [section] of file into
 * text (at most max_len - 1 characters and a NUL). Returns its length, 0
 * when the item is absent (or empty), -1 when the file cannot be read or an
 * argument is bad. */
int BIOS_Get_Ini_String_Ext(const char *file, const char *section, const char *item, char *text,
                            int max_len);

/* BIOS_Set_Ini_String_Ext - set item in [section] of file to text
 * (creating the item, the section or the file, mode 0600, as needed), or
 * delete the item when text is NULL. Nothing is written when the value is
 * already text. Returns 0, or -1 for a bad length, a text that would not
 * read back the same (line breaks, leading or trailing blanks, " ;" which
 * starts a comment), or a file error. */
int BIOS_Set_Ini_String_Ext(const char *file, const char *section, const char *item,
                            const char *text);

/* The forms without a file name use the servers' configuration file:
 * chip.ini in the working directory until chip_ini_set_default_file names
 * another (chipd_start names the file it was started with). */
int BIOS_Get_Ini_String(const char *section, const char *item, char *text, int max_len);
int BIOS_Set_Ini_String(const char *section, const char *item, const char *text);
void chip_ini_set_default_file(const char *path);

#endif
