/* make-v73-seed.c — writes corpus/cvact/v73-plain.mat, a small valid CVACT ACT_data.mat as
 * matio's v7.3 (HDF5) writer makes it (make-seeds.py writes the v5 seeds byte by byte; HDF5
 * needs the library).  Not built by meson:
 *   cc make-v73-seed.c -o /tmp/make-v73-seed $(pkg-config --cflags --libs matio)
 *   /tmp/make-v73-seed corpus/cvact/v73-plain.mat */
#include <matio.h>
#include <stdint.h>
int main(int argc, char **argv)
{
    mat_t *mat = Mat_CreateVer(argv[1], NULL, MAT_FT_MAT73);
    uint16_t chars[2 * 4];
    const char *ids[2] = {"id_0", "id_1"};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++) chars[i + k * 2] = (uint16_t)ids[i][k];
    double utm[4] = {690000, 690010, 6090000, 6090010};
    size_t dc[2] = {2, 4}, du[2] = {2, 2}, one[2] = {1, 1}, d2[2] = {2, 1};
    matvar_t *v = Mat_VarCreate("panoIds", MAT_C_CHAR, MAT_T_UINT16, 2, dc, chars, 0);
    Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE);
    Mat_VarFree(v);
    v = Mat_VarCreate("utm", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, du, utm, 0);
    Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE);
    Mat_VarFree(v);
    const char *sets[2] = {"trainSet", "valSet"}, *fields[2] = {"trainInd", "valInd"};
    for (int s = 0; s < 2; s++) {
        const char *fn[1] = {fields[s]};
        matvar_t *st = Mat_VarCreateStruct(sets[s], 2, one, fn, 1);
        double idx[2] = {1, 2};
        Mat_VarSetStructFieldByName(st, fields[s], 0,
                                    Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d2, idx, 0));
        Mat_VarWrite(mat, st, MAT_COMPRESSION_NONE);
        Mat_VarFree(st);
    }
    Mat_Close(mat);
    return 0;
}
