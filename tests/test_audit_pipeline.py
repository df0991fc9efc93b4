"""The audit as a pipeline (verify/audit.py, verify/context.py, verify/derivation.py): claims are scheduled by the
needs they declare, a check cannot read what its claim does not declare, and a failed derivation worker costs the
derivation files, never the verdicts."""
from pathlib import Path

from verify import catalogue
from verify.audit import run_claim, schedule
from verify.catalogue import CROSSCHECK, DOCUMENT, FIG2, FIG3, Claim
from verify.context import AuditContext
from verify.derivation import DerivationJob
from verify.outcome import Step, confirmed

# From the paper's structure, independently of the catalogue's declarations: the equation claims and Prop. 1's
# check (its eq. 21 comparison) read the derivation document, and so do the claims about the tractable model's optimum
# that its per-unit proofs decide (Props. 1-3, Sec. IV.A, the Sec. III MIE argument, Fig. 1's ELBO, MIE, TIE,
# log-likelihood, reconstruction and KL); the Section IV.B trained linear model and the Fig. 2/3 claims read trained
# networks; nothing else reads either (Prop. 4 and the orthogonal-columns theorem build their own small sections).
PROVED_FROM_THE_DOCUMENT = {"prop1", "prop2", "prop3", "sec4a-fixed-decoder", "sec3-mie-nonmonotone",
                            "fig1-elbo-max-at-1", "fig1-mie-finite-optimum", "fig1-tie-finite-optimum",
                            "fig1-loglik-decreasing",
                            "fig1-reconstruction-decreasing", "fig1-kl-decreasing"}
READS_DOCUMENT = {c.id for c in catalogue.CLAIMS if c.kind == "equation"} | PROVED_FROM_THE_DOCUMENT
READS_TRAINING = {"sec4b-trained-linear"} | {c.id for c in catalogue.CLAIMS if c.id.startswith(("fig2-", "fig3-"))}


def test_declared_needs_are_the_ones_the_paper_implies():
    assert {c.id for c in catalogue.CLAIMS if DOCUMENT in c.needs} == READS_DOCUMENT
    assert {c.id for c in catalogue.CLAIMS if c.trained} == READS_TRAINING


def test_schedule_runs_free_claims_then_document_readers_then_training_in_catalogue_order():
    order = [c.id for c in schedule(catalogue.CLAIMS)]
    free = [c.id for c in catalogue.CLAIMS if c.id not in READS_DOCUMENT | READS_TRAINING]
    document = [c.id for c in catalogue.CLAIMS if c.id in READS_DOCUMENT]
    training = [c.id for c in catalogue.CLAIMS if c.id in READS_TRAINING]
    assert order == free + document + training


def test_a_check_reading_an_undeclared_result_is_reported_as_a_crash():
    def reads_fig2(ctx):
        ctx.fig2()
        return confirmed("never reached", [Step("x", True, "")])
    rogue = Claim("rogue", "nowhere", "a claim whose check reads Fig. 2 without declaring it", reads_fig2, "trained")
    result = run_claim(rogue, AuditContext())
    assert result.outcome is None and "does not declare" in result.error
    declared = Claim("declared", "nowhere", "the same check, declared", lambda ctx: confirmed("ok", [Step("x", True, "")]),
                     "trained", needs={FIG2, FIG3, CROSSCHECK})
    assert run_claim(declared, AuditContext()).verdict == "confirmed"


def test_a_failed_derivation_worker_is_a_warning_not_a_lost_audit(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    job = DerivationJob(Path(blocker) / "derivation", ("audit",))   # cannot create a directory under a file
    assert job.wait() is None
    (warning,) = job.warnings()
    assert warning.startswith("the derivation document was not written:") and "Error" in warning
