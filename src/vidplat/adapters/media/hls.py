"""One rendition's encoders and fMP4 HLS muxer, fed decoded frames on its own thread; the master playlist.

Each rendition scales, encodes and muxes on a thread of its own: swscale and libavcodec release the
GIL, so the rungs run in parallel with each other and with the decoder, as the ffmpeg CLI's do.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.video.frame import PictureType, VideoFrame
from av.video.reformatter import VideoReformatter

from vidplat.domain.videos.delivery import INIT as INIT_SEGMENT
from vidplat.domain.videos.delivery import VARIANT as PLAYLIST
from vidplat.domain.videos.renditions import AUDIO_BITRATE, SEGMENT_SECONDS, Rendition

SAMPLE_RATE = 48_000
PRESET = "veryfast"
CRF = "23"  # quality-driven, under each rung's VBV cap
SCALER = "BICUBIC"  # swscale's, as the ffmpeg CLI's scale filter defaults to
_QUEUED = 16  # decoded frames a rendition may lag behind the decoder
_DONE = None


class RenditionWriter:
    """Scales, encodes (H.264 + AAC) and muxes one rendition as HLS VOD into `directory`, on a thread."""

    def __init__(self, rendition: Rendition, directory: Path, *, frame_rate: int, time_base: object, audio: bool):
        self.rendition = rendition
        self.directory = directory
        directory.mkdir(parents=True)
        self._output = av.open(
            str(directory / PLAYLIST),
            "w",
            format="hls",
            options={
                "hls_time": str(SEGMENT_SECONDS),
                "hls_segment_type": "fmp4",
                "hls_playlist_type": "vod",
                "hls_flags": "independent_segments",
                "hls_fmp4_init_filename": INIT_SEGMENT,
                "hls_segment_filename": str(directory / "seg_%05d.m4s"),
            },
        )
        gop = str(frame_rate * SEGMENT_SECONDS)
        video = self._output.add_stream("libx264", rate=frame_rate, options=x264_options(rendition, gop))
        if not isinstance(video, av.VideoStream):  # the stubs type a codec named at run time loosely
            raise TypeError("libx264 gave no video stream")
        video.width, video.height, video.pix_fmt = rendition.width, rendition.height, "yuv420p"
        # PyAV defaults every codec to slice threads, which makes x264 use its slower sliced-threads
        # mode; frame threads are x264's (and the ffmpeg CLI's) default.
        video.codec_context.thread_type = "AUTO"
        # Frames keep the source's timestamps: no rounding to a nominal frame rate, A/V stays in sync.
        video.time_base = video.codec_context.time_base = time_base  # type: ignore[assignment]
        self._video = video
        self._audio: av.AudioStream | None = None
        if audio:
            stream = self._output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            if not isinstance(stream, av.AudioStream):
                raise TypeError("aac gave no audio stream")
            stream.bit_rate = AUDIO_BITRATE
            self._audio = stream
        self._queue: queue.Queue[VideoFrame | AudioFrame | None] = queue.Queue(_QUEUED)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"rendition-{rendition.name}", daemon=True)
        self._thread.start()

    def put(self, frame: VideoFrame | AudioFrame) -> None:
        """Queue a decoded frame (video frames already carry the pict_type the encoder must use)."""
        if self.error is not None:
            raise self.error
        self._queue.put(frame)

    def finish(self) -> None:
        """Flush the encoders, write the playlist, and re-raise what failed on the thread."""
        self._queue.put(_DONE)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop the thread after a failure elsewhere; what it wrote is discarded with out_dir."""
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()

    def _run(self) -> None:
        try:
            with self._output:
                self._encode_all()
        except BaseException as exc:  # handed to the decoding thread, which raises it
            self.error = exc
            while self._queue.get() is not _DONE:  # keep the decoder from blocking on a full queue
                pass

    def _encode_all(self) -> None:
        width, height = self.rendition.width, self.rendition.height
        # A scaler of its own: frame.reformat() would share one swscale context, cached on the
        # decoded frame, between every rendition's thread at once (not thread-safe; it hangs).
        scaler = VideoReformatter()
        while (frame := self._queue.get()) is not _DONE:
            if isinstance(frame, VideoFrame):
                picture = scaler.reformat(frame, width, height, format="yuv420p", interpolation=SCALER)
                if picture is not frame:
                    picture.pict_type = frame.pict_type
                self._output.mux(self._video.encode(picture))
            elif self._audio is not None:
                self._output.mux(self._audio.encode(frame))
        self._output.mux(self._video.encode(None))
        if self._audio is not None:
            self._output.mux(self._audio.encode(None))


def x264_options(rendition: Rendition, gop: str) -> dict[str, str]:
    """The libx264 options of a rung: capped CRF, fixed GOP, no scene-cut keyframes (shared with the bench)."""
    return {
        "preset": PRESET,
        "crf": CRF,
        "maxrate": str(rendition.max_bitrate),
        "bufsize": str(2 * rendition.max_bitrate),
        "g": gop,
        "keyint_min": gop,
        "sc_threshold": "0",
        "forced-idr": "1",
    }


def mark_keyframe(frame: VideoFrame, keyframe: bool) -> None:
    """Keyframes only where the segments start: never where the source happened to have them."""
    frame.pict_type = PictureType.I if keyframe else PictureType.NONE


def video_codecs(directory: Path) -> str:
    """The RFC 6381 codec string of a rendition's H.264 track, read from its init segment's avcC box."""
    init = (directory / INIT_SEGMENT).read_bytes()
    at = init.find(b"avcC")
    if at < 0:
        raise ValueError("the init segment has no avcC box")
    profile, compatibility, level = init[at + 5 : at + 8]
    return f"avc1.{profile:02x}{compatibility:02x}{level:02x}"


def master_playlist(writers: list[RenditionWriter], root: Path, *, audio: bool) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for writer in writers:
        r = writer.rendition
        codecs = video_codecs(writer.directory) + (",mp4a.40.2" if audio else "")
        uri = (writer.directory / PLAYLIST).relative_to(root).as_posix()
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},RESOLUTION={r.width}x{r.height},CODECS="{codecs}"', uri]
    return "\n".join(lines) + "\n"
