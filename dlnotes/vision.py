"""Computer-vision helpers of Part II under one name: ``from dlnotes.vision import iou, nms``.

The code lives in two topic modules: :mod:`dlnotes.detection` (boxes, IoU, non-max
suppression, anchors, YOLO-style coding; chapter 02-convolutional-networks/06-object-detection)
and :mod:`dlnotes.style` (triplet loss, Gram matrix, content and style costs; chapter
02-convolutional-networks/07-faces-and-style). Image augmentations are in :mod:`dlnotes.augment`.
"""
from .detection import (Scene, anchor_boxes, assign_to_anchors, batched_nms, box_area,
                        center_to_corners, corners_to_center, decode_predictions, encode_boxes,
                        iou, nms, shape_iou, synthetic_scene)
from .style import (GramCache, TripletCache, content_cost, gram_matrix, gram_matrix_backward,
                    gram_matrix_forward, style_cost, style_layer_cost, triplet_loss,
                    triplet_loss_backward, triplet_loss_forward)

__all__ = ["Scene", "anchor_boxes", "assign_to_anchors", "batched_nms", "box_area",
           "center_to_corners", "corners_to_center", "decode_predictions", "encode_boxes", "iou",
           "nms", "shape_iou", "synthetic_scene",
           "GramCache", "TripletCache", "content_cost", "gram_matrix", "gram_matrix_backward",
           "gram_matrix_forward", "style_cost", "style_layer_cost", "triplet_loss",
           "triplet_loss_backward", "triplet_loss_forward"]
