"""Summarise a py-spy raw profile (py-spy record -f raw): inclusive and own share of the samples whose stack
holds a frame starting with ARGV[2] (e.g. "TxWorker.step"), HR-record and population reads left out.

    python spy_summary.py PROFILE.txt "TxWorker.step" [N]
"""
import collections,re,sys
tot=0; incl=collections.Counter(); selff=collections.Counter()
for line in open(sys.argv[1]):
    stack,_,n=line.rstrip().rpartition(" "); n=int(n)
    fr=stack.split(";")
    if not any(f.startswith(sys.argv[2]) for f in fr): continue
    if "on_hr" in stack or "all_records" in stack or "<module>" in fr[-1] or "_bootstrap" in stack and "Thread" not in stack: continue
    tot+=n
    seen=set()
    for f in fr:
        k=re.sub(r":\d+\)$",")",f)
        if k not in seen: seen.add(k); incl[k]+=n
    selff[re.sub(r":\d+\)$",")",fr[-1])]+=n
print("tot",tot)
for k,v in incl.most_common(int(sys.argv[3])): print(f"{100*v/tot:5.1f}%",k)
print("== self")
for k,v in selff.most_common(40): print(f"{100*v/tot:5.1f}%",k)
