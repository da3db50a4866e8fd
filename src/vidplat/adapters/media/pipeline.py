"""Decode once, encode every rendition: the transcode itself, on local paths, blocking (run it in a child)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from vidplat.adapters.media.containers import MEDIA_ERRORS, container_kind, open_input, video_stream
from vidplat.adapters.media.hls import SAMPLE_RATE, RenditionWriter, mark_keyframe, master_playlist
from vidplat.adapters.media.limits import MediaLimits
from vidplat.adapters.media.storyboard import Storyboard
from vidplat.adapters.media.upright import Upright
from vidplat.domain.ports import TranscodeFailed, UnreadableMedia
from vidplat.domain.videos.delivery import MASTER
from vidplat.domain.videos.renditions import SEGMENT_SECONDS, Rung, TranscodeResult, select_renditions

_DEFAULT_RATE = 30
# How short the video may fall of its declared duration before it counts as truncated (as the probe judges).
_MIN_SLACK_SECONDS = 1.0
_SLACK_RATIO = 0.05


def transcode_to_hls(
    source: Path, out_dir: Path, ladder: Sequence[Rung], limits: MediaLimits, progress: Callable[[int], None]
) -> TranscodeResult:
    """Write master.m3u8, one HLS rendition per directory and the storyboard into out_dir."""
    try:
        with open_input(source, container_kind(source)) as container:
            return _Transcode(container, out_dir, ladder, limits, progress).run()
    except UnreadableMedia as exc:
        raise TranscodeFailed(str(exc)) from exc


class _Transcode:
    def __init__(
        self,
        container: InputContainer,
        out_dir: Path,
        ladder: Sequence[Rung],
        limits: MediaLimits,
        progress: Callable[[int], None],
    ) -> None:
        self.container, self.out_dir, self.ladder, self.limits = container, out_dir, ladder, limits
        self.progress = progress
        self.video = video_stream(container, limits)
        # Unlike a probe, a transcode decodes every frame: all the cores' threads (the cap holds regardless).
        self.video.codec_context.thread_count = 0
        self.video.thread_type = "AUTO"
        self.audio = container.streams.audio[0] if container.streams.audio else None
        self.declared = _declared_duration(container, self.video)
        rate = self.video.average_rate or self.video.guessed_rate
        self.frame_rate = min(120, max(1, round(rate))) if rate else _DEFAULT_RATE
        self.writers: list[RenditionWriter] = []
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE, frame_size=1024)
        self._origin_seconds = 0.0
        self._next_sample = 0

    def run(self) -> TranscodeResult:
        self._check_header()
        try:
            end, storyboard = self._encode()
            for writer in self.writers:
                writer.finish()
        except BaseException:
            for writer in self.writers:
                writer.abandon()
            raise
        has_audio = self.audio is not None
        (self.out_dir / MASTER).write_text(master_playlist(self.writers, self.out_dir, audio=has_audio))
        storyboard.write(self.out_dir, end)
        self.progress(100)
        renditions = tuple(writer.rendition for writer in self.writers)
        return TranscodeResult(renditions=renditions, duration_seconds=round(end, 3), has_audio=has_audio)

    def _check_header(self) -> None:
        if self.declared is not None:
            self.limits.check_duration(self.declared)

    def _encode(self) -> tuple[float, Storyboard]:
        upright: Upright | None = None
        storyboard: Storyboard | None = None
        pending_audio: list[AudioFrame] = []
        origin: int | None = None
        last_pts, next_key, percent, end = -1, 0.0, 0, 0.0
        for frame in self._decoded():
            if isinstance(frame, AudioFrame):
                if self.writers:
                    self._put_audio(frame)
                else:
                    pending_audio.append(frame)
                continue
            if upright is None or storyboard is None:
                upright = self._start(frame)
                storyboard = Storyboard(self.declared, upright.width, upright.height)
            origin = frame.pts if origin is None else origin
            for picture in upright.apply(frame):
                last_pts = pts = max(last_pts + 1, (picture.pts or 0) - (origin or 0))
                picture.pts = pts
                at = float(pts * self.video.time_base) if self.video.time_base else 0.0
                self.limits.check_duration(at)  # headers may understate it
                mark_keyframe(picture, at >= next_key)
                while next_key <= at:
                    next_key += SEGMENT_SECONDS
                for writer in self.writers:
                    writer.put(picture)
                storyboard.offer(picture, at)
                end = at + 1 / self.frame_rate
                percent = self._report(at, percent)
            for audio_frame in pending_audio:
                self._put_audio(audio_frame)
            pending_audio.clear()
        if storyboard is None:
            raise TranscodeFailed("The video stream has no decodable picture.")
        self._flush_audio()
        if self.declared is not None and end < self.declared - max(_MIN_SLACK_SECONDS, self.declared * _SLACK_RATIO):
            raise TranscodeFailed("The file is truncated: its video data ends early.")
        return end, storyboard

    def _decoded(self) -> Iterator[VideoFrame | AudioFrame]:
        streams = [self.video] if self.audio is None else [self.video, self.audio]
        frames = self.container.decode(*streams)
        while True:
            # Only the reading side judges the file: an encoder's failure is ours, not the upload's.
            try:
                frame = next(frames)
            except StopIteration:
                return
            except MemoryError:
                raise  # FFmpeg's ENOMEM is one too: out of memory, not a damaged file
            except MEDIA_ERRORS as exc:
                raise TranscodeFailed("The video data is damaged or incomplete.") from exc
            if isinstance(frame, VideoFrame | AudioFrame):
                yield frame

    def _start(self, first: VideoFrame) -> Upright:
        """Pick the renditions from the first picture as displayed, and open their writers."""
        upright = Upright(first, self.video.time_base or Fraction(1, 90_000))
        self.limits.check_frame(upright.width, upright.height)
        self._origin_seconds = float((first.pts or 0) * (self.video.time_base or 0))
        for rendition in select_renditions(upright.width, upright.height, self.ladder):
            self.writers.append(
                RenditionWriter(
                    rendition,
                    self.out_dir / rendition.name,
                    frame_rate=self.frame_rate,
                    time_base=self.video.time_base,
                    audio=self.audio is not None,
                )
            )
        return upright

    def _put_audio(self, frame: AudioFrame | None) -> None:
        for resampled in self._resampler.resample(frame):
            # On the video's clock: audio from before the first picture is dropped, gaps are kept.
            start = resampled.pts if resampled.pts is not None else self._next_sample
            pts = start - round(self._origin_seconds * SAMPLE_RATE)
            if pts < 0:
                continue
            resampled.pts = pts = max(pts, self._next_sample)
            resampled.time_base = Fraction(1, SAMPLE_RATE)
            self._next_sample = pts + resampled.samples
            for writer in self.writers:
                writer.put(resampled)

    def _flush_audio(self) -> None:
        if self.audio is not None:
            self._put_audio(None)

    def _report(self, at: float, percent: int) -> int:
        """Report whole percents as they are reached: at most 100 reports, whatever the frame count."""
        if not self.declared:
            return percent
        now = min(99, int(at * 100 / self.declared))
        if now > percent:
            self.progress(now)
        return max(now, percent)


def _declared_duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None
