r"""Data sets for clustering: bundled USPS, Flavia leaves, COIL-20 and ISOLET,
image folders, and feature arrays, all returned as :class:`ClusteringData`."""

from vgdcn_pyg.datasets.arrays import encode_labels, load_array
from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.coil20 import COIL20_IMAGE_SHAPE, load_coil20
from vgdcn_pyg.datasets.features import FEATURES, ImageFeatures, extract_features
from vgdcn_pyg.datasets.flavia import FLAVIA10_CLASSES, FLAVIA10_IMAGE_SIZE, load_flavia10
from vgdcn_pyg.datasets.images import IMAGE_EXTENSIONS, load_image, load_image_folder
from vgdcn_pyg.datasets.isolet import ISOLET_CLASSES, load_isolet
from vgdcn_pyg.datasets.registry import DATASETS, load_dataset
from vgdcn_pyg.datasets.synthetic import make_gaussian_mixture
from vgdcn_pyg.datasets.usps import USPS_SHA256, USPS_URL, download_usps, load_usps

__all__ = [
    "ClusteringData",
    "load_dataset",
    "DATASETS",
    "load_usps",
    "download_usps",
    "USPS_URL",
    "USPS_SHA256",
    "load_flavia10",
    "FLAVIA10_CLASSES",
    "FLAVIA10_IMAGE_SIZE",
    "load_coil20",
    "COIL20_IMAGE_SHAPE",
    "load_isolet",
    "ISOLET_CLASSES",
    "load_image_folder",
    "load_image",
    "IMAGE_EXTENSIONS",
    "load_array",
    "encode_labels",
    "make_gaussian_mixture",
    "FEATURES",
    "ImageFeatures",
    "extract_features",
]
