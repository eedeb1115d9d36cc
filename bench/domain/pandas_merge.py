#!/usr/bin/env python3
"""The same job as `domain_bench merge` done the way most analysts would: pandas.
   pandas_merge.py RETURN SNAPSHOT OUTPUT"""
import sys
import pandas as pd

returned, snapshot, output = sys.argv[1:4]
kbi = pd.read_csv(snapshot, sep=";", dtype=str, keep_default_na=False)
vdab = pd.read_csv(returned, sep=";", dtype=str, keep_default_na=False)
kbi = kbi.drop_duplicates(subset="insz", keep="first")
merged = vdab.merge(kbi, on="insz", how="inner")
columns = [c for c in kbi.columns if c != "insz"] + [c for c in vdab.columns if c != "insz"]
merged[columns].to_csv(output, sep=";", index=False)
