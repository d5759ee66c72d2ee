# Runs a PyTorch training script (bench/neural_vs_torch.sh's references) and, after it, prints the CPU
# seconds the process used per wall second over the script's timed steps: "CPU-s/wall-s R".
# The reference scripts time their steps with two time.perf_counter() calls (at the first timed step
# and at the end); this wrapper notes the process CPU time at each perf_counter() call and uses the
# last two. Usage: python torch_cpu_clock.py SCRIPT ARGS...
import runpy, sys, time

calls = []
_wall = time.perf_counter


def clock():
    t = _wall()
    if sys._getframe(1).f_code.co_filename == script:  # the script's own calls only
        calls.append((t, time.process_time()))
    return t


script = sys.argv[1]
time.perf_counter = clock
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
(w0, c0), (w1, c1) = calls[-2], calls[-1]
print(f"CPU-s/wall-s {(c1 - c0) / (w1 - w0):.3f}")
