/*
 * ui-curses.h: the one place that includes ncursesw (as htop's
 * ProvideCurses.h), with the feature macros the wide-character API needs.
 * Only app/ui-term.c includes this; it translates curses' keys, mouse events
 * and resizes into the UI's own codes (ui.h, ui-int.h), and panes draw into a
 * struct grid, so no other file sees curses.
 */
#ifndef SEQMATCH_UI_CURSES_H
#define SEQMATCH_UI_CURSES_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include <curses.h>

#endif
