/* test-train-events.c — the JSON lines of `s4g train --json`: every kind written and read
 * back field for field, strings with quotes, control characters and non-ASCII text, numbers
 * that are not finite (null), untagged lines, and errors that name the line and the field. */
#include "s4g-train-events.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static S4gTrainEvent *round_trip(const S4gTrainEvent *ev)
{
    g_autofree char *line = s4g_train_event_to_json(ev);
    g_assert_null(strchr(line, '\n'));
    /* any JSON reader takes it, not only ours */
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, line, -1, &error));
    g_assert_no_error(error);
    S4gTrainEvent *back = s4g_train_event_parse(line, 1, &error);
    g_assert_no_error(error);
    g_assert_nonnull(back);
    g_assert_cmpint(back->kind, ==, ev->kind);
    return back;
}

static void test_start_step_end(void)
{
    S4gTrainEvent start = {.kind = S4G_TRAIN_EVENT_START,
                           .run = 7,
                           .model = 3,
                           .device = "llvmpipe (LLVM 15.0.6, 256 bits)",
                           .n_pairs = 160,
                           .n_refs = 200,
                           .n_excluded = 2,
                           .total_steps = 50,
                           .warmup_steps = 12.5,
                           .epoch = 1};
    g_autofree char *line = s4g_train_event_to_json(&start);
    /* the shape scripts grep for stays */
    g_assert_true(g_str_has_prefix(line, "{\"event\": \"start\", \"run\": 7, \"model\": 3, "));
    g_autoptr(S4gTrainEvent) s = round_trip(&start);
    g_assert_cmpint(s->run, ==, 7);
    g_assert_cmpint(s->model, ==, 3);
    g_assert_cmpstr(s->device, ==, start.device);
    g_assert_cmpuint(s->n_pairs, ==, 160);
    g_assert_cmpuint(s->n_refs, ==, 200);
    g_assert_cmpuint(s->n_excluded, ==, 2);
    g_assert_cmpint(s->total_steps, ==, 50);
    g_assert_cmpfloat(s->warmup_steps, ==, 12.5);
    g_assert_cmpuint(s->epoch, ==, 1);

    S4gTrainEvent step = {.kind = S4G_TRAIN_EVENT_STEP,
                          .step = 12,
                          .epoch_progress = 1.2,
                          .loss = 4.2481679916381836,
                          .lr = 3.3e-4,
                          .logit_scale = 14.28,
                          .pairs_per_s = 97.125,
                          .eta_s = NAN};
    g_autofree char *sl = s4g_train_event_to_json(&step);
    g_assert_nonnull(strstr(sl, "\"eta_s\": null"));
    /* numbers in their shortest exact form, as a person would write them */
    g_assert_nonnull(strstr(sl, "\"epoch\": 1.2, \"loss\": 4.248167991638184, \"lr\": 0.00033, "));
    g_assert_nonnull(strstr(sl, "\"pairs_per_s\": 97.125"));
    g_autoptr(S4gTrainEvent) t = round_trip(&step);
    g_assert_cmpint(t->step, ==, 12);
    g_assert_cmpfloat(t->epoch_progress, ==, 1.2);
    g_assert_cmpfloat(t->loss, ==, step.loss); /* written exactly, read exactly */
    g_assert_cmpfloat(t->lr, ==, 3.3e-4);
    g_assert_cmpfloat(t->logit_scale, ==, 14.28);
    g_assert_cmpfloat(t->pairs_per_s, ==, 97.125);
    g_assert_true(isnan(t->eta_s));

    S4gTrainEvent end = {
        .kind = S4G_TRAIN_EVENT_END, .run = 7, .model = 3, .what = "stopped", .step = 40};
    g_autoptr(S4gTrainEvent) e = round_trip(&end);
    g_assert_cmpstr(e->what, ==, "stopped");
    g_assert_cmpint(e->step, ==, 40);
}

static void test_eval_mined(void)
{
    S4gTrainEvent eval = {.kind = S4G_TRAIN_EVENT_EVAL,
                          .epoch = 4,
                          .chance_r1 = 2.5,
                          .metrics = {.r1 = 37.5,
                                      .r5 = 60,
                                      .r10 = 70.25,
                                      .r1pct = 75,
                                      .hit_rate = NAN,
                                      .ap = 12.5,
                                      .queries = 40,
                                      .refs = 40}};
    g_autofree char *line = s4g_train_event_to_json(&eval);
    g_assert_null(strstr(line, "hit_rate")); /* optional and NaN: left out */
    g_assert_nonnull(strstr(line, "\"ap\": 12.5"));
    g_autoptr(S4gTrainEvent) v = round_trip(&eval);
    g_assert_cmpuint(v->epoch, ==, 4);
    g_assert_cmpfloat(v->metrics.r1, ==, 37.5);
    g_assert_cmpfloat(v->metrics.r10, ==, 70.25);
    g_assert_cmpfloat(v->metrics.r1pct, ==, 75);
    g_assert_true(isnan(v->metrics.hit_rate));
    g_assert_cmpfloat(v->metrics.ap, ==, 12.5);
    g_assert_cmpuint(v->metrics.queries, ==, 40);
    g_assert_cmpfloat(v->chance_r1, ==, 2.5);

    /* as the trainer emits it: train recall r1 NaN, r5 left unset */
    S4gTrainEvent gps = {
        .kind = S4G_TRAIN_EVENT_MINED, .what = "gps", .epoch = 1, .metrics = {.r1 = NAN}};
    g_autofree char *gl = s4g_train_event_to_json(&gps);
    g_assert_cmpstr(gl, ==, "{\"event\": \"mined\", \"kind\": \"gps\", \"epoch\": 1}");
    S4gTrainEvent dss = {.kind = S4G_TRAIN_EVENT_MINED,
                         .what = "dss",
                         .epoch = 4,
                         .metrics = {.r1 = 50, .r5 = 75.5}};
    g_autoptr(S4gTrainEvent) d = round_trip(&dss);
    g_assert_cmpstr(d->what, ==, "dss");
    g_assert_cmpfloat(d->metrics.r5, ==, 75.5);

    S4gTrainEvent enc = {
        .kind = S4G_TRAIN_EVENT_ENCODE, .what = "eval", .epoch = 4, .step = 32, .total_steps = 80};
    g_autoptr(S4gTrainEvent) n = round_trip(&enc);
    g_assert_cmpstr(n->what, ==, "eval");
    g_assert_cmpint(n->step, ==, 32);
    g_assert_cmpint(n->total_steps, ==, 80);
}

/* The message that broke the hand-written JSON: typographic quotes became octal escapes. */
static void test_strings(void)
{
    const char *message = "cvusa: splits/train-19zl.csv:1834: field “lat” is \"north\"\\"
                          "\tbad\x01 — Zürich 東京";
    S4gTrainEvent err = {.kind = S4G_TRAIN_EVENT_ERROR, .run = 9, .what = message};
    g_autofree char *line = s4g_train_event_to_json(&err);
    g_assert_null(strchr(line, '\t')); /* control characters are escaped */
    g_assert_null(strchr(line, '\x01'));
    g_autoptr(S4gTrainEvent) e = round_trip(&err);
    g_assert_cmpstr(e->what, ==, message);
    g_assert_cmpint(e->run, ==, 9);

    S4gTrainEvent cp = {.kind = S4G_TRAIN_EVENT_CHECKPOINT,
                        .what = "models/run-1 “best”.safetensors"};
    g_autoptr(S4gTrainEvent) c = round_trip(&cp);
    g_assert_cmpstr(c->what, ==, cp.what);

    /* invalid UTF-8 is repaired rather than written raw */
    S4gTrainEvent bad = {.kind = S4G_TRAIN_EVENT_ERROR, .what = "bad \xff byte"};
    g_autoptr(S4gTrainEvent) b = round_trip(&bad);
    g_assert_true(g_utf8_validate(b->what, -1, NULL));
    g_assert_true(g_str_has_prefix(b->what, "bad "));
}

static void test_untagged_and_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gTrainEvent) s = s4g_train_event_parse("{\"step\":5,\"loss\":3}", 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s->kind, ==, S4G_TRAIN_EVENT_STEP);
    g_assert_cmpint(s->step, ==, 5);
    g_assert_cmpfloat(s->loss, ==, 3);
    g_assert_true(isnan(s->lr));
    g_autoptr(S4gTrainEvent) v = s4g_train_event_parse("{\"epoch\":1,\"r1\":12.5}", 2, &error);
    g_assert_no_error(error);
    g_assert_cmpint(v->kind, ==, S4G_TRAIN_EVENT_EVAL);
    g_assert_cmpfloat(v->metrics.r1, ==, 12.5);

    struct {
        const char *line, *want;
        int code;
    } bad[] = {
        {"{\"step\":6}", "line 7: field “loss” missing or not a finite number", 0},
        {"{\"loss\":6}", "line 7: field “step” missing", 0},
        {"{\"event\": \"step\", \"step\": 1, \"loss\": null}", "field “loss”", 0},
        {"{\"event\": \"step\", \"step\": 1.5, \"loss\": 2}", "field “step” is not an integer", 0},
        {"{\"event\": \"eval\", \"epoch\": 1}", "field “r1” missing", 0},
        {"{\"event\": \"start\", \"device\": 3}", "field “device” is not a string", 0},
        {"{\"event\": \"start\", \"pairs\": -1}", "field “pairs” is negative", 0},
        {"{\"event\": 4}", "field “event” is not a string", 0},
        {"{\"step\": 7, \"loss\": ", "line 7: ", 0},
        {"[1,2]", "line 7: expected a JSON object", 0},
        {"{\"event\": \"warp\"}", "line 7: unknown event “warp”", 1},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        S4gTrainEvent *ev = s4g_train_event_parse(bad[i].line, 7, &error);
        g_assert_null(ev);
        g_assert_error(error, S4G_TRAIN_EVENTS_ERROR,
                       bad[i].code ? S4G_TRAIN_EVENTS_ERROR_UNKNOWN
                                   : S4G_TRAIN_EVENTS_ERROR_INVALID);
        if (!strstr(error->message, bad[i].want))
            g_error("%s: got “%s”, want “%s”", bad[i].line, error->message, bad[i].want);
        g_clear_error(&error);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train-events/start-step-end", test_start_step_end);
    g_test_add_func("/train-events/eval-mined-encode", test_eval_mined);
    g_test_add_func("/train-events/strings", test_strings);
    g_test_add_func("/train-events/untagged-and-errors", test_untagged_and_errors);
    return g_test_run();
}
