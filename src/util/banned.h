/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_BANNED_H
#define SKILLMEAT_BANNED_H

/*
 * Functions that are easy to misuse. Include this last, after the system
 * headers, so a use fails to compile; tests/lint/banned.sh also greps the tree.
 * Use strbuf, snprintf, the checked parse helpers and the _r time functions.
 */
#define SM_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) SM_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SM_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SM_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SM_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SM_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SM_BANNED(strtok)
#undef atoi
#define atoi(x) SM_BANNED(atoi)
#undef gmtime
#define gmtime(x) SM_BANNED(gmtime)
#undef localtime
#define localtime(x) SM_BANNED(localtime)

#endif
