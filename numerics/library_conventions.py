"""The loss conventions of four beta-VAE libraries, each with the source lines it is read from.

Per example each Gaussian convention is a ||x - x_hat||^2 + b KL (:mod:`numerics.library_beta`); D is the number of
input values per example (channels x height x width), M the batch size, S the dataset size. The quoted lines are
copied from the files at the named revision (evidence/library-beta.md has the derivations in full):

* pythae 0.1.2 ``mse``: 0.5 * sum of squares + beta * KL, mean over the batch: a = 1/2, b = beta;
* pythae ``mse-unhalved`` (an earlier repository revision, before the 1/2 was added): a = 1, b = beta;
* 1Konny/Beta-VAE ``gaussian``: sum of squares / batch + beta * KL summed over latents, batch mean: a = 1, b = beta;
* AntixK/PyTorch-VAE ``mse``: F.mse_loss's mean over batch and pixels: a = 1/D, b = beta; ``mse-mn``: the KL also
  weighted by M_N = M / S: b = beta M / S; ``mse-kld-weight`` (the current code): M_N is the config's kld_weight w:
  b = beta w;
* disentanglement_lib ``l2``: sum of squares, batch mean, + beta * KL: a = 1, b = beta.

The ``bce``/``bernoulli`` options are listed so that the command can name them and refuse them.

>>> [c.option for c in CONVENTIONS if c.library == "AntixK/PyTorch-VAE"]
['mse', 'mse-mn', 'mse-kld-weight']
>>> convention("pythae").option, convention("disentanglement_lib").option        # each library's default
('mse', 'l2')
"""
from __future__ import annotations

from .library_beta import Citation, Convention

__all__ = ["CONVENTIONS", "LIBRARIES", "convention", "library_name", "options"]

PYTHAE_REPO = "clementchadebec/benchmark_VAE"
PYTHAE_PATH = "src/pythae/models/beta_vae/beta_vae_model.py"
KONNY = "1Konny/Beta-VAE"
ANTIXK = "AntixK/PyTorch-VAE"
DLIB = "google-research/disentanglement_lib"

_PYTHAE_012 = Citation(
    PYTHAE_REPO, PYTHAE_PATH, "24939dc75842dfaf8f7dad77fbf27f65337f0817 (pythae 0.1.2 on PyPI: the installed "
    "site-packages pythae/models/beta_vae/beta_vae_model.py is this file, byte for byte: 3645 characters)", (83, 110),
    ('        if self.model_config.reconstruction_loss == "mse":',
     '            recon_loss = (',
     '                0.5',
     '                * F.mse_loss(',
     '                    recon_x.reshape(x.shape[0], -1),',
     '                    x.reshape(x.shape[0], -1),',
     '                    reduction="none",',
     '                ).sum(dim=-1)',
     '            )',
     '        KLD = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)',
     '            (recon_loss + self.beta * KLD).mean(dim=0),'))
_PYTHAE_BCE = Citation(PYTHAE_REPO, PYTHAE_PATH, _PYTHAE_012.revision, (96, 102),
                       ('        elif self.model_config.reconstruction_loss == "bce":',
                        '            recon_loss = F.binary_cross_entropy('))
_PYTHAE_OLD = Citation(
    PYTHAE_REPO, PYTHAE_PATH, "06d582a7566a5c250f1c6a126bcf424e94bd0da4", (84, 108),
    ('        if self.model_config.reconstruction_loss == "mse":',
     '            recon_loss = F.mse_loss(',
     '                recon_x.reshape(x.shape[0], -1),',
     '                x.reshape(x.shape[0], -1),',
     '                reduction="none",',
     '            ).sum(dim=-1)',
     '        KLD = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)',
     '            (recon_loss + self.beta * KLD).mean(dim=0),'),
    note="an earlier revision: BetaVAE still loads its own config (_load_model_config_from_folder), before the "
         "AutoConfig loader of the released 0.1.x; no 1/2 on the squared error")
_KONNY_REV = "977a1ece88e190dd8a556b4e2efb665f759d0772"
_KONNY_GAUSS = Citation(KONNY, "solver.py", _KONNY_REV, (21, 165), (
    "def reconstruction_loss(x, x_recon, distribution):",
    "    elif distribution == 'gaussian':",
    "        x_recon = F.sigmoid(x_recon)",
    "        recon_loss = F.mse_loss(x_recon, x, size_average=False).div(batch_size)",
    "    klds = -0.5*(1 + logvar - mu.pow(2) - logvar.exp())",
    "    total_kld = klds.sum(1).mean(0, True)",
    "                    beta_vae_loss = recon_loss + self.beta*total_kld"),
    note="lines 27-29 (gaussian), 44-45 (KL), 165 (objective 'H'); the sigmoid only shapes the decoder's mean")
_KONNY_BERN = Citation(KONNY, "solver.py", _KONNY_REV, (25, 26), (
    "    if distribution == 'bernoulli':",
    "        recon_loss = F.binary_cross_entropy_with_logits(x_recon, x, size_average=False).div(batch_size)"),
    note="dsprites uses it (lines 91-93: self.decoder_dist = 'bernoulli')")
_ANTIXK_OLD = Citation(ANTIXK, "models/beta_vae.py", "291a37d9fe92de7d781575163f2cf6453951f652", (118, 129), (
    "        recons_loss =F.mse_loss(recons, input)",
    "        kld_loss = torch.mean(-0.5 * torch.sum(1 + log_var - mu ** 2 - log_var.exp(), dim = 1), dim = 0)",
    "        loss = recons_loss + self.beta * kld_loss"),
    note="F.mse_loss's default reduction is the mean over every element: batch x channels x height x width")
_ANTIXK_NEW = Citation(ANTIXK, "models/beta_vae.py", "db41da7f1d68308832ea52098cb36a149b919c45", (129, 144), (
    "        kld_weight = kwargs['M_N']  # Account for the minibatch samples from the dataset",
    "        recons_loss =F.mse_loss(recons, input)",
    "        kld_loss = torch.mean(-0.5 * torch.sum(1 + log_var - mu ** 2 - log_var.exp(), dim = 1), dim = 0)",
    "        if self.loss_type == 'H': # https://openreview.net/forum?id=Sy2fzU9gl",
    "            loss = recons_loss + self.beta * kld_weight * kld_loss"))
_ANTIXK_MN = Citation(ANTIXK, "experiment.py", "09c445102360f139bd14822d1475080757e4ae08", (39, 39), (
    "                                              M_N = self.params['batch_size']/ self.num_train_imgs,",))
_ANTIXK_KW = Citation(ANTIXK, "experiment.py", "8bf7be5c83c35a2027aa1771e6f0fb1ad9425536", (40, 40), (
    "                                              M_N = self.params['kld_weight'], "
    "#al_img.shape[0]/ self.num_train_imgs,",),
    note="configs/bhvae.yaml at af3f9a5376a737828c2b543bdc5b81ed61451d24 sets kld_weight: 0.00025, beta: 10.")
_DLIB_REV = "76f41e39cdeff8517f7fba9d57b09f35703efca9"
_DLIB_VAE = Citation(DLIB, "disentanglement_lib/methods/unsupervised/vae.py", _DLIB_REV, (46, 155), (
    "    per_sample_loss = losses.make_reconstruction_loss(features, reconstructions)",
    "    reconstruction_loss = tf.reduce_mean(per_sample_loss)",
    "    kl_loss = compute_gaussian_kl(z_mean, z_logvar)",
    "    regularizer = self.regularizer(kl_loss, z_mean, z_logvar, z_sampled)",
    '    loss = tf.add(reconstruction_loss, regularizer, name="loss")',
    "      0.5 * tf.reduce_sum(",
    "          tf.square(z_mean) + tf.exp(z_logvar) - z_logvar - 1, [1]),",
    "    return self.beta * kl_loss"),
    note="lines 46-50 (model_fn), 117-122 (compute_gaussian_kl: batch mean of the summed KL), 153-155 (BetaVAE)")
_DLIB_L2 = Citation(DLIB, "disentanglement_lib/methods/shared/losses.py", _DLIB_REV, (66, 74), (
    "def l2_loss(true_images, reconstructed_images, activation):",
    "    return tf.reduce_sum(",
    "        tf.square(true_images - tf.nn.sigmoid(reconstructed_images)), [1, 2, 3])",
    "    reconstructed_images = tf.nn.tanh(reconstructed_images) / 2 + 0.5",
    "    return tf.reduce_sum(",
    "        tf.square(true_images - reconstructed_images), [1, 2, 3])"),
    note="gin selects loss_fn (line 83, gin.REQUIRED); either activation only shapes the decoder's mean")
_DLIB_BERN = Citation(DLIB, "disentanglement_lib/methods/shared/losses.py", _DLIB_REV, (28, 62), (
    "def bernoulli_loss(true_images,",
    "        tf.nn.sigmoid_cross_entropy_with_logits("))

_SUM = "a = 1 (sum of squares, no 1/2)"


def _bce(library: str, option: str, cites) -> Convention:
    return Convention(library, option, "binary cross-entropy (a Bernoulli likelihood)", cites,
                      formula="sum of binary cross-entropies + beta KL",
                      derivation="not a Gaussian log-density: no decoder variance, no paper beta")


CONVENTIONS: tuple[Convention, ...] = (
    Convention("pythae", "mse", "pythae 0.1.2 (the PyPI release)", (_PYTHAE_012,),
               "0.5 ||x - x_hat||^2 + beta KL, batch mean",
               "a = 1/2, b = beta: beta_paper = b / (2a) = beta (the library's beta is the paper's)",
               scale=lambda s: 0.5, weight=lambda beta, s: beta, default=True),
    Convention("pythae", "mse-unhalved", "pythae, earlier repository revision 06d582a7", (_PYTHAE_OLD,),
               "||x - x_hat||^2 + beta KL, batch mean",
               f"{_SUM}, b = beta: beta_paper = beta / 2",
               scale=lambda s: 1.0, weight=lambda beta, s: beta),
    _bce("pythae", "bce", (_PYTHAE_BCE,)),
    Convention(KONNY, "gaussian", "decoder_dist 'gaussian' (3dchairs, celeba), objective 'H'", (_KONNY_GAUSS,),
               "||sigmoid(x_recon) - x||^2 + beta KL, batch mean",
               f"{_SUM}, b = beta: beta_paper = beta / 2",
               scale=lambda s: 1.0, weight=lambda beta, s: beta, default=True),
    _bce(KONNY, "bernoulli", (_KONNY_BERN,)),
    Convention(ANTIXK, "mse", "models/beta_vae.py at 291a37d (no KL weight)", (_ANTIXK_OLD,),
               "(1/D) ||x - x_hat||^2 + beta KL, batch mean",
               "a = 1/D (F.mse_loss averages over the D values too), b = beta: beta_paper = beta D / 2",
               scale=lambda s: 1.0 / s.input_dim, weight=lambda beta, s: beta, needs=("input_dim",),
               why="the per-pixel mean divides the squared error by D"),
    Convention(ANTIXK, "mse-mn", "loss_type 'H' with M_N = batch_size / num_train_imgs (experiment.py at 09c4451)",
               (_ANTIXK_NEW, _ANTIXK_MN), "(1/D) ||x - x_hat||^2 + beta (M/S) KL, batch mean",
               "a = 1/D, b = beta M / S: beta_paper = beta D M / (2 S)",
               scale=lambda s: 1.0 / s.input_dim, weight=lambda beta, s: beta * s.batch_size / s.dataset_size,
               needs=("input_dim", "batch_size", "dataset_size"),
               why="the per-pixel mean divides by D, and the KL is weighted by M_N = M / S"),
    Convention(ANTIXK, "mse-kld-weight", "loss_type 'H' with M_N = the config's kld_weight (the current code)",
               (_ANTIXK_NEW, _ANTIXK_KW), "(1/D) ||x - x_hat||^2 + beta w KL, batch mean",
               "a = 1/D, b = beta w: beta_paper = beta w D / 2",
               scale=lambda s: 1.0 / s.input_dim, weight=lambda beta, s: beta * s.kld_weight,
               needs=("input_dim", "kld_weight"),
               why="the per-pixel mean divides by D, and the KL is weighted by M_N = kld_weight", default=True),
    Convention(DLIB, "l2", "reconstruction_loss.loss_fn = @l2_loss, model = @vae (BetaVAE)", (_DLIB_VAE, _DLIB_L2),
               "||x - x_hat||^2 + beta KL, batch mean",
               f"{_SUM}, b = beta: beta_paper = beta / 2",
               scale=lambda s: 1.0, weight=lambda beta, s: beta, default=True),
    _bce(DLIB, "bernoulli", (_DLIB_VAE, _DLIB_BERN)),
)

#: the command line's names for the libraries (lower case; the repository names are accepted too)
LIBRARIES = {"pythae": "pythae", "1konny": KONNY, "antixk": ANTIXK, "disentanglement_lib": DLIB}


def library_name(text: str) -> str | None:
    """The library a command-line name stands for (a key of LIBRARIES or a repository name, any case), or None."""
    t = text.strip().lower()
    for key, name in LIBRARIES.items():
        if t in (key, name.lower(), name.split("/")[-1].lower()) or (key == "pythae" and t == PYTHAE_REPO.lower()):
            return name
    return None


def options(library: str) -> list[str]:
    return [c.option for c in CONVENTIONS if c.library == library]


def convention(library: str, option: str | None = None) -> Convention:
    """The convention of ``library`` (a LIBRARIES key or value) with ``option`` (None: the library's default)."""
    name = library_name(library) or library
    for c in CONVENTIONS:
        if c.library == name and (c.option == option or (option is None and c.default)):
            return c
    raise KeyError(f"{library} {option}")
