//! A two-layer network learns the two-moons data set: full-batch Adam on
//! cross-entropy, a progress bar with epoch, loss and accuracy, and a PNG
//! with the loss curve and the decision boundary.
//!
//! Everything is seeded (data, noise, initial weights), so every run prints
//! the same numbers and draws the same picture.
//!
//! Run: `cargo run --release --example moons` (writes moons.png in the current
//! folder) or `cargo run --release --example moons -- out.png`.

use std::error::Error;
use std::time::Instant;

use chainrule::autograd;
use chainrule::nn::{accuracy, data::two_moons, Module, Sequential, Tanh};
use chainrule::optim::{Adam, AdamConfig};
use chainrule::random::SplitMix64;
use chainrule::train::train_classifier;
use chainrule::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;

/// The run that tests/nn_moons.rs repeats: 200 points with noise 0.15
/// (data seed 7), a 2-16-2 tanh network (weight seed 0), Adam with lr 0.05,
/// 300 epochs.
const POINTS: usize = 200;
const NOISE: f64 = 0.15;
const DATA_SEED: u64 = 7;
const MODEL_SEED: u64 = 0;
const HIDDEN: usize = 16;
const LR: f64 = 0.05;
const EPOCHS: usize = 300;

/// A pure-Rust font for the plot's text (DejaVu Sans, cut down to ASCII;
/// licence beside it), so plotters needs no fontconfig or freetype.
const FONT: &[u8] = include_bytes!("assets/DejaVuSans-subset.ttf");

/// The colours of class 0 and class 1 (points), and their pale tints
/// (regions).
const CLASS_COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(230, 110, 20)];
const REGION_COLOURS: [RGBColor; 2] = [RGBColor(198, 219, 239), RGBColor(253, 208, 162)];

fn main() -> Result<(), Box<dyn Error>> {
    // The picture goes to the first argument, or moons.png in the current folder.
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "moons.png".to_string());

    let (x, labels) = two_moons(POINTS, NOISE, DATA_SEED)?;
    let model = Sequential::mlp(&[2, HIDDEN, 2], Tanh, &mut SplitMix64::new(MODEL_SEED));
    println!("{model}");
    println!(
        "{} parameters; {POINTS} points, noise {NOISE}; Adam lr {LR}, {EPOCHS} epochs",
        model.num_parameters()
    );
    let mut opt = Adam::new(
        model.parameters(),
        AdamConfig {
            lr: LR,
            ..Default::default()
        },
    )?;

    let bar = ProgressBar::new(EPOCHS as u64);
    bar.set_style(ProgressStyle::with_template(
        "{bar:20} epoch {pos:>3}/{len} {msg} [{elapsed_precise}]",
    )?);
    let start = Instant::now();
    let history = train_classifier(&model, &mut opt, &x, &labels, EPOCHS, |s| {
        bar.set_message(format!(
            "loss {:.4} accuracy {:5.1}%",
            s.loss,
            100.0 * s.accuracy
        ));
        bar.set_position(s.epoch as u64);
    })?;
    bar.finish();
    let elapsed = start.elapsed();

    let final_accuracy = autograd::no_grad_scope(|| accuracy(&model.forward(&x)?, &labels))?;
    for s in history.iter().filter(|s| s.epoch == 1 || s.epoch % 50 == 0) {
        println!(
            "epoch {:>3}: loss {:.6}, accuracy {:5.1}%",
            s.epoch,
            s.loss,
            100.0 * s.accuracy
        );
    }
    println!(
        "trained in {:.0} ms; training accuracy after the last step: {:.1}%",
        elapsed.as_secs_f64() * 1e3,
        100.0 * final_accuracy
    );

    plot(&out, &model, &x, &labels, &history, final_accuracy)?;
    println!("wrote {out}");
    Ok(())
}

/// The loss curve (left) and the decision regions with the data (right).
fn plot(
    path: &str,
    model: &dyn Module,
    x: &Tensor,
    labels: &[usize],
    history: &[chainrule::train::EpochStats],
    final_accuracy: f64,
) -> Result<(), Box<dyn Error>> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the committed font could not be read")?;
    let root = BitMapBackend::new(path, (1200, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(560);

    let max_loss = history.iter().map(|s| s.loss).fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(&left)
        .caption("Training loss (cross-entropy)", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(1..history.len(), 0.0..max_loss * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .label_style(("sans-serif", 15))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    chart.draw_series(LineSeries::new(
        history.iter().map(|s| (s.epoch, s.loss)),
        CLASS_COLOURS[0].stroke_width(2),
    ))?;

    let (x0, x1, y0, y1) = (-1.6, 2.6, -1.1, 1.6);
    let mut chart = ChartBuilder::on(&right)
        .caption(
            format!(
                "Decision regions after {} epochs ({:.1}% correct)",
                history.len(),
                100.0 * final_accuracy
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(50)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x1")
        .y_desc("x2")
        .label_style(("sans-serif", 15))
        .draw()?;

    // The predicted class on a grid of cells, from one batched forward pass.
    let (nx, ny) = (210, 135);
    let (dx, dy) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    let mut grid = Vec::with_capacity(2 * nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            grid.extend([x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy]);
        }
    }
    let grid = Tensor::from_vec(grid, &[nx * ny, 2])?;
    let predicted = autograd::no_grad_scope(|| model.forward(&grid))?
        .argmax_dim(1, false)
        .to_vec();
    chart.draw_series(predicted.iter().enumerate().map(|(k, &c)| {
        let (i, j) = (k % nx, k / nx);
        let (cx, cy) = (x0 + i as f64 * dx, y0 + j as f64 * dy);
        Rectangle::new(
            [(cx, cy), (cx + dx, cy + dy)],
            REGION_COLOURS[c as usize].filled(),
        )
    }))?;

    let points = x.to_vec();
    for (class, colour) in CLASS_COLOURS.into_iter().enumerate() {
        chart
            .draw_series(
                labels
                    .iter()
                    .enumerate()
                    .filter(|&(_, &l)| l == class)
                    .map(|(k, _)| {
                        Circle::new((points[2 * k], points[2 * k + 1]), 4, colour.filled())
                    }),
            )?
            .label(format!("class {class}"))
            .legend(move |(px, py)| Circle::new((px, py), 4, colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
