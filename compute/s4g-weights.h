/* s4g-weights.h — one entry point for every weights file a user may have, detected from the
 * file's own bytes (never its name):
 *   formats: safetensors; PyTorch checkpoints (torch.save zip, s4g-pth.h), also wrapped in
 *            {"model": ...} / {"state_dict": ...} / {"model", "optimizer", "epoch", ...};
 *   layouts: timm names; Sample4Geo's TimmModel ("model." prefix, "logit_scale" outside it);
 *            DataParallel ("module." prefix, also on top of the others); Facebook's original
 *            ConvNeXt names (downsample_layers.*, stages.i.j.dwconv/pwconv1/pwconv2, norm);
 *            ImageNet classifiers (timm head.fc.*, Facebook head.*) are dropped and reported.
 * The tensors come out under timm's names (+ "logit_scale"), in their stored dtypes (F16/BF16
 * are converted by s4g_st_to_f32 when read); `orig` keeps each tensor's name in the file so
 * errors can name what the user's file says.
 */
#ifndef S4G_WEIGHTS_H
#define S4G_WEIGHTS_H

#include "s4g-safetensors.h"

typedef struct s4g_pth s4g_pth;

typedef struct s4g_weights {
    s4g_st_file *f;      /* normalised names */
    char **orig;         /* orig[i]: the file's name of f->tensors[i] */
    const char *format;  /* "safetensors" or "PyTorch checkpoint" */
    char layout[96];     /* "timm names", "Sample4Geo TimmModel names", "DataParallel, ..." */
    size_t nfile;        /* tensors in the file's state dict, dropped ones included */
    char dropped[512];   /* "head.fc.weight, head.fc.bias (ImageNet classifier)" or "" */
    char ignored[320];   /* PyTorch checkpoints: top-level entries besides the state dict */
    s4g_pth *pth;        /* private */
} s4g_weights;

s4g_weights *s4g_weights_open(const char *path, s4g_err *err);
void s4g_weights_close(s4g_weights *w);
/* "loaded 344 of 346 tensors (ConvNeXt-base; PyTorch checkpoint, timm names); dropped
 * head.fc.weight, head.fc.bias (ImageNet classifier)" — `loaded` tensors went into a model
 * described by `arch`. */
void s4g_weights_report(const s4g_weights *w, size_t loaded, const char *arch, char *out,
                        size_t cap);

#endif
