/*
 * curses.h: the one place that includes ncursesw (as htop's ProvideCurses.h),
 * with the feature macros the wide-character API needs. Only app/ui.c
 * includes this; panes draw into a struct grid and never see curses.
 */
#ifndef SEQMATCH_CURSES_H
#define SEQMATCH_CURSES_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

/*
 * ncurses installs its header as both curses.h and ncurses.h; this file has
 * the first name and app/ is on the include path, so include the second.
 */
#include <ncurses.h>

#endif
