/* cmd.h: the subcommands main.c dispatches (one file each, cmd-NAME.c; the UI in ui.c). */
#ifndef SEQMATCH_CMD_H
#define SEQMATCH_CMD_H

/* Each parses its own options with getopt_long and returns an exit status (app.h). */
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_mauve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_theme(int argc, char **argv);
int cmd_session(int argc, char **argv);
int cmd_ui(int argc, char **argv);

#endif
