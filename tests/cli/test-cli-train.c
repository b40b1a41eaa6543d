/* test-cli-train.c — `s4g train --json` as a subprocess on a tiny synthetic world: one JSON
 * object per line, SIGTERM finishes the step, checkpoints, leaves the run stopped and exits
 * 0; `--resume` completes it; `s4g eval --json` then reports R@1 with its chance level. */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static const char *s4g_path; /* the s4g program, from the command line */

static const char *s4g(void)
{
    return s4g_path;
}

static void test_train_sigterm_resume(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-cli-XXXXXX", &error);
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p", NULL);
    const char *synth[] = {s4g(), "synth",         "--layout", "cvusa", "--out", world, "-n",
                           "40",  "--image-scale", "0.5",      "-j",    "2",     NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g(),   "import", "--project", proj,  "--kind",
                         "cvusa", "--name", "w",         world, NULL};
    g_free(tf_run_ok(imp));

    const char *train[] = {s4g(),
                           "train",
                           "--project",
                           proj,
                           "--dataset",
                           "w",
                           "--model",
                           "m",
                           "--ground-size",
                           "32x96",
                           "--satellite-size",
                           "32x32",
                           "--epochs",
                           "2",
                           "--batch",
                           "8",
                           "--eval-every",
                           "1",
                           "--neighbour-select",
                           "8",
                           "--neighbour-range",
                           "16",
                           "--backend",
                           "cpu",
                           "--threads",
                           "2",
                           "--json",
                           NULL};
    g_autoptr(GSubprocess) p = g_subprocess_newv(train, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error(error);
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p));
    char *line;
    gboolean signalled = FALSE, saw_start = FALSE, saw_end = FALSE;
    int steps = 0;
    while ((line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error))) {
        g_assert_true(line[0] == '{' && line[strlen(line) - 1] == '}');
        saw_start |= strstr(line, "\"event\": \"start\"") != NULL;
        if (strstr(line, "\"event\": \"step\"")) {
            steps++;
            g_assert_nonnull(strstr(line, "\"loss\""));
            g_assert_nonnull(strstr(line, "\"lr\""));
            if (!signalled) {
                g_subprocess_send_signal(p, SIGTERM);
                signalled = TRUE;
            }
        }
        if (strstr(line, "\"event\": \"end\"")) {
            g_assert_nonnull(strstr(line, "\"state\": \"stopped\""));
            saw_end = TRUE;
        }
        g_free(line);
    }
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(p, NULL, &error));
    g_assert_true(g_subprocess_get_if_exited(p));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    g_assert_true(saw_start && saw_end);
    /* the signal is sent when step 1's line is read; the pipe may already hold later lines,
     * so the run ends a few steps on, but well before its 8 steps (2 epochs x 32/8 pairs) */
    g_assert_cmpint(steps, >=, 1);
    g_assert_cmpint(steps, <, 8);

    const char *resume[] = {s4g(),       "train", "--project", proj, "--resume", "1",
                            "--backend", "cpu",   "--threads", "2",  "--json",   NULL};
    g_autofree char *out = tf_run_ok(resume);
    g_assert_nonnull(strstr(out, "\"state\": \"done\""));
    g_assert_nonnull(strstr(out, "\"event\": \"eval\""));

    const char *eval[] = {s4g(),     "eval", "--project", proj,  "--dataset", "w",
                          "--model", "m",    "--backend", "cpu", "--json",    NULL};
    g_autofree char *ev = tf_run_ok(eval);
    g_assert_nonnull(strstr(ev, "\"r1\": "));
    g_assert_nonnull(strstr(ev, "\"chance_r1\": 12.5000")); /* 8 val references */

    /* predict a held-out panorama: JSON with an error against its known location, a CSV
     * row and stored predictions */
    g_autofree char *val = g_build_filename(world, "splits", "val-19zl.csv", NULL);
    g_autofree char *vtext = NULL;
    g_assert_true(g_file_get_contents(val, &vtext, NULL, NULL));
    g_auto(GStrv) cols = g_strsplit(vtext, ",", 3);
    g_autofree char *pano = g_build_filename(world, cols[1], NULL);
    g_autofree char *csv = g_build_filename(tmp, "p.csv", NULL);
    const char *pred[] = {s4g(),    "predict", "--project", proj,        "--dataset",
                          "w",      "--model", "m",         "--backend", "cpu",
                          "--json", "--csv",   csv,         pano,        NULL};
    g_autofree char *po = tf_run_ok(pred);
    g_assert_nonnull(strstr(po, "\"error_m\": "));
    g_assert_nonnull(strstr(po, "\"top\": [{\"tile\": \"bingmap/"));
    g_autofree char *ctext = NULL;
    g_assert_true(g_file_get_contents(csv, &ctext, NULL, NULL));
    g_assert_true(g_str_has_prefix(ctext, "image,lat,lon,confidence,error_m,tile,score\n"));
    g_auto(GStrv) rows = g_strsplit(ctext, "\n", -1);
    g_assert_cmpuint(g_strv_length(rows), ==, 3); /* header, one row, trailing "" */

    /* fine-tuning: a new run starts from m's weights (--init; depths/dims read from the file) */
    g_autofree char *best = g_build_filename(proj, "models", "m-best.safetensors", NULL);
    g_assert_true(g_file_test(best, G_FILE_TEST_EXISTS));
    const char *ft[] = {s4g(),    "train",       "--project", proj, "--dataset", "w",
                        "--model", "ft",         "--init",    best, "--ground-size", "32x96",
                        "--satellite-size", "32x32", "--epochs", "1", "--batch", "8",
                        "--backend", "cpu", "--threads", "2", "--json", NULL};
    g_autofree char *fo = tf_run_ok(ft);
    g_assert_nonnull(strstr(fo, "\"state\": \"done\""));
    /* --init from a timm ImageNet PyTorch checkpoint: the classifier is dropped and said so */
    g_autofree char *imnet = tf_fixture("pth/timm-imagenet.pth");
    const char *ftp[] = {"train",       "--project", proj, "--dataset", "w", "--model", "ftp",
                         "--init",      imnet, "--ground-size", "32x96", "--satellite-size",
                         "32x32",       "--epochs", "1", "--batch", "8", "--backend", "cpu",
                         "--threads",   "2", "--json", NULL};
    g_autofree char *pout = NULL, *perr = NULL;
    g_assert_cmpint(tf_run(s4g(), ftp, &pout, &perr), ==, 0);
    g_assert_nonnull(strstr(pout, "\"state\": \"done\""));
    if (!strstr(perr, "s4g train: --init: loaded 54 of 56 tensors") ||
        !strstr(perr, "dropped head.fc.weight, head.fc.bias (ImageNet classifier)"))
        g_error("no --init load line in: %s", perr);
    /* truncated initial weights: an error naming the file, no run started */
    g_autofree char *wtext = NULL;
    gsize wlen = 0;
    g_assert_true(g_file_get_contents(best, &wtext, &wlen, NULL));
    g_autofree char *cut = g_build_filename(tmp, "cut.safetensors", NULL);
    g_assert_true(g_file_set_contents(cut, wtext, (gssize)(wlen / 2), NULL));
    const char *ftbad[] = {s4g(), "train", "--project", proj, "--dataset", "w", "--model",
                           "ft2", "--init", cut, "--backend", "cpu", NULL};
    tf_run_fails(ftbad, "cut.safetensors");

    const char *badjpeg[] = {s4g(), "train", "--project", proj, "--dataset", "w",
                             "--jpeg-order", "bgr", NULL};
    tf_run_fails(badjpeg, "s4g train: --jpeg-order: expected reference or rgb, got “bgr”");

    /* sizes are H×W; anything else names the flag and what it got */
    const char *badsz[] = {s4g(), "train", "--project", proj, "--dataset", "w",
                           "--ground-size", "96", NULL};
    tf_run_fails(badsz, "s4g train: --ground-size: expected H×W like 128x512, got “96”");
    const char *badsz2[] = {s4g(), "eval", "--project", proj, "--dataset", "w", "--model", "m",
                            "--satellite-size", "32x0", NULL};
    tf_run_fails(badsz2, "s4g eval: --satellite-size: expected H×W like 128x512, got “32x0”");

    /* a satellite shift that would move the place out of its own 64-px view is refused */
    const char *shift[] = {s4g(), "train", "--project", proj, "--dataset", "w",
                           "--satellite-size", "64x64", "--satellite-shift", "40", "--batch", "8", NULL};
    tf_run_fails(shift, "--satellite-shift 40: must be 0..31 px for 64×64 satellite images");
    /* a missing dataset is an error naming it */
    const char *bad[] = {s4g(), "train", "--project", proj, "--dataset", "nope", NULL};
    tf_run_fails(bad, "nope");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    g_test_add_func("/cli/train-sigterm-resume", test_train_sigterm_resume);
    return g_test_run();
}
