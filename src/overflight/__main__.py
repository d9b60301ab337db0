import sys

try:
    from overflight.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command's modules load: no traceback either
    sys.stderr.write("overflight: interrupted\n")
    raise SystemExit(130) from None

main()
