/*
 * ui-session.h: between saved sessions (transcript.h) and the UI's event log
 * (struct ui_log, ui.h): saving a finished generation, and turning a saved
 * one back into a log the UI replays.
 */
#ifndef SEQMATCH_UI_SESSION_H
#define SEQMATCH_UI_SESSION_H

#include <stdint.h>

struct sampler_params;
struct tokenizer;
struct transcript;
struct ui_log;

/*
 * Turn a transcript into an event log for the UI (log filled afresh: the
 * caller frees the old one's prompt and ev). The tokens must be tok's: the
 * saved text of every token is checked against tok, and a session from
 * another tokenizer is refused (-1, "file:line: why" in *cause) rather than
 * shown as wrong text.
 */
int ui_session_to_log(const struct transcript *s, const struct tokenizer *tok,
    struct ui_log *log, char **cause);
/*
 * Save a finished generation's log to dir (created) as
 * YYYYmmdd-HHMMSS-SEED.jsonl, atomically (transcript_save). *path (may be
 * NULL) gets the file's path (malloc'd). weights names the weight format it
 * generated with (quant_format_name; NULL: not recorded).
 */
int ui_session_save_log(const char *dir, const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *params, const char *model_path, uint64_t model_hash,
    long weights_version, const char *weights, char **path, char **cause);

#endif
