/* s4g-redundant.c — not built: the log-domain-rejects-redundant test's input, a file that
 * repeats the domain its meson target already sets (check-log-domain.py must refuse it). */
#define G_LOG_DOMAIN "s4g-studio"
