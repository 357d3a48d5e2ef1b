# nmrilt_run: TopSpin Python program (Jython 2.7; TopSpin 3 and 4).
#
# Runs nmrilt on the dataset currently open in TopSpin and opens the map it writes as the
# processed dataset PROCNO of the same experiment (F2 = chemical shift, F1 = log10 tau).
# Install: copy to <topspin>/exp/stan/nmr/py/user/nmrilt_run.py (or create it with
# `edpy nmrilt_run` and paste this text); run it by typing `nmrilt_run` (or `xpy nmrilt_run`).
# Everything nmrilt does happens in the command build_command() returns; this file stays
# thin so that the command can be tested outside TopSpin.
# ruff: noqa: F821, UP031  (TopSpin provides CURDATA, RE ...; Jython 2.7 has no f-strings)
import os
import subprocess

# The nmrilt command: the full path if nmrilt is not on TopSpin's PATH,
# e.g. ["/opt/nmrilt/venv/bin/nmrilt"].
NMRILT = ["nmrilt"]
# Processing number of the map: nmrilt only ever replaces a procno it wrote itself.
PROCNO = 999


def build_command(curdata, nmrilt=None, procno=PROCNO):
    """The argument list running nmrilt on the dataset CURDATA() describes.

    curdata is TopSpin's [name, expno, procno, dir, user]; the experiment folder is
    dir/name/expno.
    """
    name, expno, directory = curdata[0], curdata[1], curdata[3]
    expdir = os.path.join(directory, name, str(expno))
    return list(nmrilt or NMRILT) + ["-q", "run", expdir, "--topspin", "--procno", str(procno),
                                     "--force"]


def main():
    curdata = CURDATA()
    if curdata is None:
        ERRMSG("nmrilt_run: open the experiment first (no dataset selected)")
        EXIT()
    command = build_command(curdata)
    SHOW_STATUS("nmrilt: inverting " + "/".join(str(c) for c in curdata[:2]) + " ...")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.communicate()[0]
    if process.returncode != 0:
        ERRMSG("nmrilt failed (exit code %d):\n%s\n%s"
               % (process.returncode, " ".join(command), output[-2000:]))
        EXIT()
    RE([curdata[0], curdata[1], str(PROCNO), curdata[3], curdata[4]])


if "CURDATA" in globals():  # started from TopSpin, which provides CURDATA, RE, ERRMSG ...
    main()
